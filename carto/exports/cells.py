"""The one rule for a CSV cell a spreadsheet opens: shown as text, never run as a formula (CSV injection).

Used by every CSV carto writes: the pins export (api.views.exports) and the actors' national schema CSV
(carto.exports.actors, `manage.py export_actors`, GET /api/actors/export.csv).
"""

from __future__ import annotations

import re

# Spreadsheets run a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters other than tab and newline; removed from every text cell.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A number as written: a sign, ASCII digits, spaces, dots, brackets and dashes ("+33144320760",
# "+33 (0)1 44 32 07 60", "-12.5"). A spreadsheet may compute it, but it names no function, no cell and no
# other program (DDE needs letters and "|"), so it is kept as it is: the national schema's phone numbers
# must start with "+33" (its pattern), and a "'" in front would make the actors' CSV invalid.
NUMBER = re.compile(r"[+-]?[0-9][0-9 .()-]*")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will show as text: control characters stripped, formulas neutralised by a
    leading "'", numbers (a phone number included) kept as written.

    The check runs on the final text (after stripping, and past leading spaces): stripping after the
    check let "\u0001=HYPERLINK(…)" through as a cell starting with "=".
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    value = CONTROL.sub("", value)
    if NUMBER.fullmatch(value):
        return value
    if value.startswith(FORMULA_START) or value.lstrip(" \t\n").startswith(FORMULA_START):
        value = "'" + value
    return value
