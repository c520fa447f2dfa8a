"""Opening hours in words: an OSM `opening_hours` value read by a maintained parser, said in a language.

"Tu-Fr 10:00-13:00,14:00-18:00" becomes "du mardi au vendredi, 10 h–13 h et 14 h–18 h" (fr) or
"Tuesday to Friday, 10 AM–1 PM and 2 PM–6 PM" (en). The parser is `opening_hours_py` (the Rust
opening-hours crate, maintained); day names, list patterns and AM/PM markers come from Babel (CLDR).
Only what CLDR has no word for is written here: how to say a run of days, and the time patterns.

Why on the server and not the npm `opening_hours` package in the page: that package weighs 156 KB gzip
(with its suncalc dependency 163 KB; measured with the same gzip level as bench/page_weight.py) against
a resident page of 52 KB, it would make the page three times heavier, and its prettifyValue() only
abbreviates ("mar.-ven. 10:00-13:00,14:00-18:00", nothing in Arabic). Here it adds nothing to the page:
the API answers the sentence in the language the page asks for (`?lang=`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from babel.dates import format_time, get_day_names
from babel.lists import format_list
from opening_hours import OpeningHours, ParserError, State

# A week evaluated to read a weekly pattern. The parser gets no country, so it knows no public holiday;
# the published values are weekly patterns (no month, week or holiday rule in the data): exact here.
REFERENCE_MONDAY = dt.datetime(2024, 1, 8)
DAY = dt.timedelta(days=1)
MINUTES_IN_DAY = 24 * 60
NBSP = "\u00a0"  # "10 h", "10 AM": the number and its unit never split across two lines


@dataclass(frozen=True)
class Words:
    run: str  # three or more consecutive days
    every_day: str
    all_day: str
    days_then_hours: str
    between_rules: str
    on_the_hour: str  # Babel time patterns
    with_minutes: str


WORDS = {
    # French writes opening hours "10 h", "12 h 30" (Lexique de l'Imprimerie nationale); CLDR's fr pattern is HH:mm.
    "fr": Words("du {0} au {1}", "tous les jours", f"24{NBSP}h sur 24", "{days}, {hours}", f"{NBSP}; ",
                f"H{NBSP}'h'", f"H{NBSP}'h'{NBSP}mm"),
    "en": Words("{0} to {1}", "every day", "24 hours a day", "{days}, {hours}", "; ", f"h{NBSP}a", f"h:mm{NBSP}a"),
    "ar": Words("من {0} إلى {1}", "كل يوم", "24 ساعة في اليوم", "{days}، {hours}", "؛ ", f"h{NBSP}a", f"h:mm{NBSP}a"),
    "zh": Words("{0}至{1}", "每天", "全天24小时", "{days} {hours}", "；", "H:mm", "H:mm"),
}  # fmt: skip
LANGUAGES = tuple(WORDS)

Spans = tuple[tuple[int, int], ...]  # open from–to, in minutes since midnight (24:00 is 1440)


def weekly_spans(value: str) -> list[Spans] | None:
    """The open spans of each day, Monday first; None when the value cannot be parsed."""
    try:
        hours = OpeningHours(value)
    except (ParserError, SyntaxError, ValueError):
        return None
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for start, end, state, _comment in hours.intervals(REFERENCE_MONDAY, REFERENCE_MONDAY + 7 * DAY):
        if state != State.OPEN:
            continue
        while start < end:  # a span past midnight is cut at each midnight
            day = (start - REFERENCE_MONDAY).days
            midnight = REFERENCE_MONDAY + (day + 1) * DAY
            stop = min(end, midnight)
            minutes = (start - (midnight - DAY)).seconds // 60
            week[day].append((minutes, minutes + int((stop - start).total_seconds()) // 60))
            start = stop
    return [tuple(spans) for spans in week]


def _time(minutes: int, words: Words, language: str) -> str:
    moment = dt.time((minutes // 60) % 24, minutes % 60)
    pattern = words.on_the_hour if moment.minute == 0 else words.with_minutes
    return format_time(moment, pattern, locale=language)


def _days(days: list[int], words: Words, language: str) -> str:
    if len(days) == 7:
        return words.every_day
    names = get_day_names("wide", locale=language)  # 0 is Monday
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    items: list[str] = []
    for run in runs:
        if len(run) >= 3:
            items.append(words.run.format(names[run[0]], names[run[-1]]))
        else:
            items.extend(names[day] for day in run)
    return format_list(items, locale=language)


def _hours(spans: Spans, words: Words, language: str) -> str:
    if spans == ((0, MINUTES_IN_DAY),):
        return words.all_day
    return format_list(
        [f"{_time(a, words, language)}–{_time(b, words, language)}" for a, b in spans], locale=language
    )


@lru_cache(maxsize=4096)
def hours_text(value: str, language: str = "fr") -> str | None:
    """The opening hours in words in `language` (fr, en, ar, zh); None when they cannot be read, or
    when the place is never open in the week (the caller shows the value as published instead)."""
    words = WORDS.get(language, WORDS["fr"])
    week = weekly_spans(value) if value.strip() else None
    if week is None:
        return None
    same_hours: dict[Spans, list[int]] = {}
    for day, spans in enumerate(week):
        if spans:
            same_hours.setdefault(spans, []).append(day)
    if not same_hours:
        return None
    rules = sorted(same_hours.items(), key=lambda item: item[1][0])
    return words.between_rules.join(
        words.days_then_hours.format(days=_days(days, words, language), hours=_hours(spans, words, language))
        for spans, days in rules
    )
