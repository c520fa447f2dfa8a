"""Per-territory statistics of visible pins: counts, supports, per 1,000 inhabitants, themes, trend.

Small counts are suppressed: a count from 1 to 4 is reported as "<5" (and its rate as null), so that a
pin in a small area cannot be singled out. Zero stays zero: it reveals no one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Sum
from django.utils import timezone

from carto.errors import InvalidInput
from carto.models import Pin, Territory, Theme

SMALL_COUNT = 5
SUPPRESSED = "<5"
# The column of Pin that places it in a territory of each level.
LEVEL_FIELDS = {
    Territory.Kind.COMMUNE: "commune_id",
    Territory.Kind.EPT: "ept_id",
    Territory.Kind.ARRONDISSEMENT: "arrondissement_id",
    Territory.Kind.QPV: "qpv_id",
}
MAX_COMPARED = 12


def suppress_small(n: int) -> int | str:
    """`n`, or "<5" when 0 < n < 5."""
    return SUPPRESSED if 0 < n < SMALL_COUNT else n


def _rate(n: int, population: int | None) -> float | None:
    if not population or 0 < n < SMALL_COUNT:
        return None
    return round(n * 1000 / population, 6)


@dataclass(frozen=True)
class StatsFilters:
    theme_ids: tuple[int, ...] | None = None
    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _pins(filters: StatsFilters, since, until):
    pins = Pin.objects.visible()
    if filters.theme_ids:
        pins = pins.filter(theme_id__in=filters.theme_ids)
    if filters.kind:
        pins = pins.filter(kind=filters.kind)
    if since:
        pins = pins.filter(created_at__gte=since)
    if until:
        pins = pins.filter(created_at__lt=until)
    return pins


def _grouped(field: str, territory_ids: list[int] | None, filters: StatsFilters, since, until):
    """{territory id: {theme id: (pins, supports)}} in one GROUP BY (index pin_theme_status helps)."""
    pins = _pins(filters, since, until)
    if territory_ids is not None:
        pins = pins.filter(**{f"{field}__in": territory_ids})
    rows = pins.values_list(field, "theme_id").annotate(n=Count("id"), s=Sum("support_count")).order_by()
    out: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for territory_id, theme_id, n, supports in rows:
        if territory_id is not None:
            out[territory_id][theme_id] = (n, supports or 0)
    return out


def _whole(filters: StatsFilters, since, until) -> dict[int, tuple[int, int]]:
    rows = (
        _pins(filters, since, until).values_list("theme_id").annotate(n=Count("id"), s=Sum("support_count"))
    )
    return {theme_id: (n, supports or 0) for theme_id, n, supports in rows.order_by()}


def _totals(
    field: str, territory_ids: list[int] | None, filters: StatsFilters, since, until
) -> dict[int, int]:
    pins = _pins(filters, since, until)
    if territory_ids is not None:
        pins = pins.filter(**{f"{field}__in": territory_ids})
    return dict(pins.values_list(field).annotate(n=Count("id")).order_by())


def _trend(current: int, previous: int) -> dict:
    change = None
    if current >= SMALL_COUNT and previous >= SMALL_COUNT:
        change = round((current - previous) * 100 / previous, 1)
    return {"current": suppress_small(current), "previous": suppress_small(previous), "change_pct": change}


def _rows(territories: list[Territory], filters: StatsFilters) -> list[dict]:
    slugs = dict(Theme.objects.values_list("id", "slug"))
    by_kind: dict[str, list[Territory]] = defaultdict(list)
    for territory in territories:
        by_kind[territory.kind].append(territory)
    until = filters.until or timezone.now()
    grouped: dict[int, dict[int, tuple[int, int]]] = {}
    previous: dict[int, int] = {}
    everything = {t.id: {} for t in territories}
    for kind, members in by_kind.items():
        ids = [t.id for t in members]
        if kind == Territory.Kind.METROPOLE:
            # Every pin is in the Métropole.
            whole = _whole(filters, filters.since, filters.until)
            grouped.update({t.id: whole for t in members})
            if filters.since:
                total = _pins(filters, filters.since - (until - filters.since), filters.since).count()
                previous.update({t.id: total for t in members})
            continue
        field = LEVEL_FIELDS[kind]
        grouped.update(_grouped(field, ids, filters, filters.since, filters.until))
        if filters.since:
            previous.update(
                _totals(field, ids, filters, filters.since - (until - filters.since), filters.since)
            )
    result = []
    for territory in territories:
        per_theme = grouped.get(territory.id, everything[territory.id])
        pins = sum(n for n, _ in per_theme.values())
        supports = sum(s for _, s in per_theme.values())
        by_theme = {
            slugs[theme_id]: n for theme_id, (n, _) in sorted(per_theme.items(), key=lambda i: slugs[i[0]])
        }
        result.append(
            {
                "code": territory.code,
                "name": territory.name,
                "kind": territory.kind,
                "population": territory.population,
                "pins": suppress_small(pins),
                "supports": suppress_small(supports),
                "per_1000": _rate(pins, territory.population),
                "by_theme": {slug: suppress_small(n) for slug, n in by_theme.items()},
                "by_theme_per_1000": {slug: _rate(n, territory.population) for slug, n in by_theme.items()},
                "trend": _trend(pins, previous.get(territory.id, 0)) if filters.since else None,
            }
        )
    return result


def territory_stats(*, level: str, filters: StatsFilters) -> list[dict]:
    """Statistics for every territory of a level (commune, ept, arrondissement, qpv), ordered by code."""
    if level not in LEVEL_FIELDS:
        raise InvalidInput(
            "invalid_level", f"level must be one of {', '.join(LEVEL_FIELDS)}", fields={"level": [str(level)]}
        )
    territories = list(Territory.objects.filter(kind=level).only("id", "code", "name", "kind", "population"))
    return _rows(territories, filters)


def territories_compare(*, codes: list[str], filters: StatsFilters) -> list[dict]:
    """Statistics of the given territories (any levels), side by side in the order given."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes or len(codes) > MAX_COMPARED:
        raise InvalidInput(
            "invalid_territories",
            f"give between 1 and {MAX_COMPARED} territory codes, comma-separated",
            fields={"territories": codes},
        )
    found = {
        t.code: t
        for t in Territory.objects.filter(code__in=codes).only("id", "code", "name", "kind", "population")
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise InvalidInput("unknown_territory", "unknown territory code", fields={"territories": unknown})
    return _rows([found[c] for c in codes], filters)
