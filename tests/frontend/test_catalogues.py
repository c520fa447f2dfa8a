"""The page's word catalogues (frontend/static/frontend/i18n/*.json): the same words in every language, counts
said with each language's own plural forms (CLDR, as the page's Intl.PluralRules reads them)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel import Locale

CATALOGUES = Path(__file__).resolve().parents[2] / "frontend/static/frontend/i18n"
LANGUAGES = ["fr", "en", "ar", "zh"]
FORMS = {"zero", "one", "two", "few", "many", "other"}


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8"))


def plural_keys(strings: dict[str, str]) -> dict[str, set[str]]:
    """`count.people.one`, `count.people.other` → {"count.people": {"one", "other"}}."""
    keys: dict[str, set[str]] = {}
    for key in strings:
        base, _, form = key.rpartition(".")
        if form in FORMS:
            keys.setdefault(base, set()).add(form)
    return keys


def test_every_catalogue_holds_the_same_words_apart_from_plural_forms():
    plain = {lang: {k for k in catalogue(lang) if k.rpartition(".")[2] not in FORMS} for lang in LANGUAGES}
    counted = {lang: set(plural_keys(catalogue(lang))) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert plain[lang] == plain["fr"], (lang, plain[lang] ^ plain["fr"])
        assert counted[lang] == counted["fr"], (lang, counted[lang] ^ counted["fr"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_count_has_the_forms_its_language_needs_from_1_to_1000(lang):
    strings = catalogue(lang)
    rule = Locale(lang).plural_form
    for base, forms in plural_keys(strings).items():
        assert "other" in forms, base
        needed = {rule(n) for n in range(1, 1001)}
        assert needed <= forms, (base, needed - forms)
        for form in forms:
            assert "{n}" in strings[f"{base}.{form}"] or form in {"zero", "one", "two"}, (base, form)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_catalogue_makes_a_plural_with_brackets(lang):
    hacks = {k: v for k, v in catalogue(lang).items() if re.search(r"\((s|e|es|x)\)", v)}
    assert hacks == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_reason_the_screening_holds_a_pin_for_is_said_in_every_language(lang):
    from carto.services.abuse import HELD_REASONS

    strings = catalogue(lang)
    assert all(strings.get(f"reason.{code}") for code in HELD_REASONS)
