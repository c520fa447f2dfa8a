"""Themes as the write path reads them: kept in each process's memory, checked by the write itself.

Themes change only through the admin and the fixtures (carto.importers.themes), yet every POST /api/pins/
read its theme back: one round trip of a few (bench/pins_write.py). A process keeps them by slug; a save or
a delete in this process drops the copy (signals connected in carto.apps), and a change made by another
process is caught where it matters: pin_create's preflight checks that the theme it was given (id, slug,
parent, blur radius) is still the stored one, and pin_submit reads it again when it is not (StaleTheme).
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from carto.models import Theme

# slug -> Theme; replaced whole, never mutated in place by a reader, so threads may share it.
_themes: dict[str, Theme] = {}


class StaleTheme(Exception):
    """The theme a write was given is no longer the stored one (changed or deleted by another process)."""


def theme_by_slug(slug: str) -> Theme | None:
    """The theme with this slug, from this process's copy (read from the primary when not there yet)."""
    theme = _themes.get(slug)
    if theme is None:
        # The primary: this copy feeds writes, which must not start from a lagging replica.
        theme = Theme.objects.using(DEFAULT_DB_ALIAS).filter(slug=slug).first()
        if theme is not None:
            _themes[slug] = theme
    return theme


def themes_forget(**_signal) -> None:
    """Drop this process's copy (a theme was saved or deleted)."""
    global _themes
    _themes = {}
