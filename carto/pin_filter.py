"""The one pin filter of the read endpoints (list, exports, tiles, map groups, statistics, hexbins).

A PinFilter is built once per request by api.params.parse_pin_filter, which checks every value; here it is
applied, to a queryset (`q`, `apply`) or to a raw statement (`filter_sql` and `PinFilter.sql_params`), so
that every endpoint keeps the same pins for the same query string.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from carto.models import Pin

# The filter in SQL, each predicate written once. `{row}` is the filtered row: a pin, or a stored square cell
# or hexagon, which carry theme, kind and month but neither status nor date. An unset value is NULL: Django
# binds client-side, so PostgreSQL sees `NULL IS NULL OR …` and folds the predicate away when planning, and
# each statement is planned for the filters it has (bench/map_clusters.py, bench/stats.py).
_THEMES = "({themes} IS NULL OR {row}.theme_id = ANY({themes}))"
_KIND = "({kind} IS NULL OR {row}.kind = {kind})"
_PIN_PREDICATES = (
    "{row}.status = ANY({statuses})",
    _THEMES,
    _KIND,
    "({since} IS NULL OR {row}.created_at >= {since})",
    "({until} IS NULL OR {row}.created_at < {until})",
)
# The stored aggregates are kept per theme, kind and month, for every visible status.
_STORED_PREDICATES = (_THEMES, _KIND, "({month} IS NULL OR {row}.month >= {month})")
# Where the values come from: the parameters of PinFilter.sql_params(), bound with their types.
BOUND = {
    "statuses": "%(statuses)s::text[]",
    "themes": "%(themes)s::int[]",
    "kind": "%(kind)s::text",
    "since": "%(since)s::timestamptz",
    "until": "%(until)s::timestamptz",
    "month": "%(month)s::date",
}


def filter_sql(row: str, *, stored: bool = False, values: dict[str, str] = BOUND) -> str:
    """The filter's predicates, AND-ed, on `row` (a table alias): a pin's, or a stored cell's or hexagon's.

    `values` names where each value is read: bound parameters by default, or the columns of a request row
    (carto.stats.comparisons binds each value once). Constant text only: every value stays bound.
    """
    text = "\n    AND ".join(_STORED_PREDICATES if stored else _PIN_PREDICATES)
    for name, value in {"row": row, **values}.items():
        text = text.replace("{" + name + "}", value)
    return text


def month_of(moment: dt.datetime) -> dt.date:
    """First day of the month of `moment`, in the server's time zone (the month key of the stored cells)."""
    return timezone.localtime(moment).date().replace(day=1)


def _is_month_start(moment: dt.datetime) -> bool:
    local = timezone.localtime(moment)
    return local == local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class PinFilter:
    """Which visible pins a read keeps. None: no filter on that field.

    `theme_ids`: a theme, or a group's themes (an empty group keeps no pin); `statuses`: among the visible
    statuses (None: every visible status); `since` inclusive, `until` exclusive. Frozen and made of plain
    values: its repr is a cache key.
    """

    theme_ids: tuple[int, ...] | None = None
    kind: str | None = None
    statuses: tuple[str, ...] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def q(self, prefix: str = "") -> Q:
        """The filter as a Q on the pin's fields (`prefix`: the path to the pin, e.g. "pin_links__pin__")."""
        conditions = {
            "theme_id__in": self.theme_ids,
            "kind": self.kind,
            "status__in": self.statuses,
            "created_at__gte": self.since,
            "created_at__lt": self.until,
        }
        return Q(**{prefix + name: value for name, value in conditions.items() if value is not None})

    def apply(self, pins):
        """Filter a Pin queryset (already restricted to visible pins)."""
        return pins.filter(self.q())

    @property
    def month(self) -> dt.date | None:
        """`since` rounded down to its month: the key of the stored cells and hexagons."""
        return month_of(self.since) if self.since else None

    def sql_params(self) -> dict:
        """The values filter_sql() reads, by name (`statuses`: every visible one when unset)."""
        return {
            "statuses": list(self.statuses or Pin.VISIBLE_STATUSES),
            "themes": list(self.theme_ids) if self.theme_ids is not None else None,
            "kind": self.kind,
            "since": self.since,
            "until": self.until,
            "month": self.month,
        }

    @property
    def stored_keys_set(self) -> bool:
        """Whether the filter narrows the stored cells (theme, kind or month): else their totals answer."""
        return self.theme_ids is not None or self.kind is not None or self.since is not None

    def stored_cells_answer(self, *, exact_since: bool) -> bool:
        """Whether the stored cells can answer: every visible status, no `until`, and with `exact_since`
        a `since` on a month start (else `since` is read with month granularity)."""
        return (
            self.statuses is None
            and self.until is None
            and (not exact_since or self.since is None or _is_month_start(self.since))
        )


NO_FILTER = PinFilter()
