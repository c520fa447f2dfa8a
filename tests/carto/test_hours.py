"""Opening hours in words (carto.hours): the OSM values of the shared data, in the page's four languages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.conf import settings

from carto.hours import LANGUAGES, hours_text, weekly_spans
from carto.importers.themes import LANGUAGES as PAGE_LANGUAGES

NBSP = "\u00a0"
PLACES = Path(settings.CARTO_DATA_DIR) / "lieux_mediation_numerique_idf.csv"


def published_hours() -> list[str]:
    with PLACES.open(newline="", encoding="utf-8") as handle:
        return [row["horaires"] for row in csv.DictReader(handle) if row["horaires"]]


def test_the_hours_speak_every_language_of_the_page():
    assert set(LANGUAGES) == set(PAGE_LANGUAGES)


def nb(text: str) -> str:
    """`~` marks a no-break space: "10~h" never splits across two lines."""
    return text.replace("~", NBSP)


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("Tu-Fr 10:00-13:00,14:00-18:00", "fr", "du mardi au vendredi, 10~h–13~h et 14~h–18~h"),
        ("Tu-Fr 10:00-13:00,14:00-18:00", "en", "Tuesday to Friday, 10~AM–1~PM and 2~PM–6~PM"),
        ("Tu-Fr 10:00-13:00,14:00-18:00", "zh", "星期二至星期五 10:00–13:00和14:00–18:00"),
        ("Tu,Fr 10:00-12:00", "fr", "mardi et vendredi, 10~h–12~h"),
        (
            "Mo-Fr 09:00-12:30,13:30-17:00; Sa 09:00-12:00",
            "fr",
            "du lundi au vendredi, 9~h–12~h~30 et 13~h~30–17~h~; samedi, 9~h–12~h",
        ),
        ("Mo-Fr 09:00-12:30; Sa 09:00-12:00", "en", "Monday to Friday, 9~AM–12:30~PM; Saturday, 9~AM–12~PM"),
        # Rules that overlap or close a day are read as the parser evaluates them, not as written.
        ("We-Sa 10:00-13:00,13:00-18:00; Fr off", "fr", "mercredi, jeudi et samedi, 10~h–18~h"),
        ("24/7", "fr", "tous les jours, 24~h sur 24"),
    ],
)
def test_a_weekly_pattern_in_words(value, language, expected):
    assert hours_text(value, language) == nb(expected)


def test_arabic_says_the_days_from_right_to_left_with_its_own_comma():
    text = hours_text("Tu-Fr 10:00-13:00,14:00-18:00", "ar")
    assert text.startswith("من الثلاثاء إلى الجمعة،")


@pytest.mark.parametrize(
    "value", ["Mo-Fr 9h-12h30,13h30-17h", "Mo 09:00", "permanence tél. du lundi au vendredi", ""]
)
def test_a_value_the_parser_refuses_has_no_words_and_is_shown_as_published(value):
    assert hours_text(value, "fr") is None


def test_a_place_never_open_has_no_words():
    assert hours_text("off", "fr") is None


def test_nearly_every_published_value_reads_in_all_four_languages():
    values = published_hours()
    read = [v for v in values if weekly_spans(v) is not None]
    assert len(values) == 349
    assert len(read) == 340  # the 9 others ("10h00-12h30", "Mo 09:00"…) are shown as published
    for value in read:
        texts = [hours_text(value, language) for language in LANGUAGES]
        assert all(texts), value
        assert not any("None" in t for t in texts)
