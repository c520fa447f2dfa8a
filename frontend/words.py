"""The resident's page speaks before its script has run: its words written by the server from the same catalogues.

On a slow network the modules arrive seconds after the HTML; without this the first paint showed the "Ajouter"
pill and every button without a word until i18n.js had fetched its catalogue. The script still translates the
page (a language saved on the phone, the easy-read mode) with the same catalogues, so both say the same.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.utils.translation import get_language

CATALOGUES = Path(__file__).resolve().parent / "static" / "frontend" / "i18n"
LANGUAGES = ("fr", "en", "ar", "zh")  # i18n.js's LANGUAGES
RTL = {"ar"}
COOKIE_LANGUAGE = {"zh": "zh-hans"}  # Django's code for the catalogue's language, where they differ


def page_language() -> str:
    """The catalogue of the request's language (Django's LocaleMiddleware: the language cookie i18n.js sets,
    then Accept-Language), French by default as i18n.js."""
    code = (get_language() or "fr").lower()
    base = code.split("-")[0]
    return base if base in LANGUAGES else "fr"


@functools.cache
def _catalogue(language: str, mtime_ns: int) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{language}.json").read_text("utf-8"))


def catalogue(language: str) -> dict[str, str]:
    """The words of one language, read again when its file changes."""
    path = CATALOGUES / f"{language}.json"
    return _catalogue(language, path.stat().st_mtime_ns)


def word(language: str, key: str) -> str:
    """What i18n.js's t(key) says without easy-read mode: the key itself when the catalogue lacks it."""
    return catalogue(language).get(key, key)
