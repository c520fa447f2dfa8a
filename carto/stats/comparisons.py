"""Per-territory statistics of visible pins: counts, supports, per 1,000 inhabitants, themes, trend.

Small counts are suppressed: a count from 1 to 4 is reported as "<5" (and its rate as null), so that a
pin in a small area cannot be singled out. Zero stays zero: it reveals no one.

Each request is one SQL statement: the pins of the period and of the previous one are counted in the same
scan (FILTER), per territory and theme, and joined there to the territories (code, name, population) and the
themes (slug). Through the ORM a comparison took six round trips, which cost more than the counting itself
(bench/stats.py); reading the reference rows in the same statement leaves no cache to invalidate. The
counts are then kept for the map version (cached_by_map_version): a dashboard's repeated request costs no
statement (bench/stats.py: the statement alone was 1.5 ms at 100 k pins, Django's fixed cost ~0.8 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections, router
from django.utils import timezone

from carto.errors import InvalidInput
from carto.models import Pin, Territory
from carto.pin_filter import PinFilter, filter_sql
from carto.stats.map_version import cached_by_map_version

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

# The request's values, bound once and named: PostgreSQL pulls this one-row subquery up into the statement
# and folds an unset filter's `NULL IS NULL OR …` away (Django binds client-side), so each request is
# planned for the filters it has. Binding each value once also keeps psycopg's client-side quoting short:
# the comparison's 31 placeholders took ~0.3 ms per request, against ~0.1 ms now.
REQUEST_SQL = """(
  SELECT %(statuses)s::text[] AS statuses, %(themes)s::int[] AS themes, %(kind)s::text AS kind,
         %(start)s::timestamptz AS start, %(since)s::timestamptz AS since, %(until)s::timestamptz AS until
) f"""
# The pins counted (carto.pin_filter, its values read from `f`), from `start`: the start of the previous period
# when there is a trend, else of the period.
PINS_WHERE_SQL = filter_sql(
    "p",
    values={
        "statuses": "f.statuses",
        "themes": "f.themes",
        "kind": "f.kind",
        "since": "f.start",
        "until": "f.until",
    },
)
# The period's pins and supports, and the previous period's pins (none without `since`).
COUNTS_SQL = """count(*) FILTER (WHERE f.since IS NULL OR p.created_at >= f.since) AS pins,
    coalesce(sum(p.support_count) FILTER (WHERE f.since IS NULL OR p.created_at >= f.since), 0) AS supports,
    count(*) FILTER (WHERE p.created_at < f.since) AS previous"""

# Every territory of a level: one GROUP BY over the pins on the level's column, then joined (grouping first is
# as fast as the bare GROUP BY; a per-territory index scan, as in _COMPARE_SQL, was 1.1-1.2x slower here).
# LATERAL only lets the subquery read `f`; once `f` is folded in, the grouped pins are hash-joined as usual.
# The column names come from LEVEL_FIELDS; every value is bound.
_LEVEL_SQL = {
    level: f"""
SELECT t.code, t.name, t.kind, t.population, th.slug, c.pins, c.supports, c.previous
FROM {REQUEST_SQL}
CROSS JOIN carto_territory t
LEFT JOIN LATERAL (
  SELECT p.{column} AS territory_id, p.theme_id, {COUNTS_SQL}
  FROM carto_pin p
  WHERE {PINS_WHERE_SQL}
  GROUP BY 1, 2
) c ON c.territory_id = t.id
LEFT JOIN carto_theme th ON th.id = c.theme_id
WHERE t.kind = %(level)s
ORDER BY t.code
"""  # noqa: S608 (constant fragments spliced; every value is bound)
    for level, column in LEVEL_FIELDS.items()
}

# A few territories of any levels, each counted through the pin indexes of every level (a BitmapOr per
# territory, reading only its own pins): territory ids are unique across levels (one table), so an id matches
# only its own level's column and the other probes find nothing. The Métropole holds every pin: its branch is
# a one-time filter on the territory's kind, and scans the pins only when the Métropole is asked for.
_COMPARE_SQL = f"""
SELECT t.code, t.name, t.kind, t.population, th.slug, c.pins, c.supports, c.previous
FROM {REQUEST_SQL}
CROSS JOIN carto_territory t
LEFT JOIN LATERAL (
  SELECT p.theme_id, {COUNTS_SQL}
  FROM carto_pin p
  WHERE {PINS_WHERE_SQL}
    AND t.id IN ({", ".join(f"p.{column}" for column in LEVEL_FIELDS.values())})
  GROUP BY 1
  UNION ALL
  SELECT p.theme_id, {COUNTS_SQL}
  FROM carto_pin p
  WHERE {PINS_WHERE_SQL}
    AND t.kind = %(metropole)s
  GROUP BY 1
) c ON true
LEFT JOIN carto_theme th ON th.id = c.theme_id
WHERE t.code = ANY(%(codes)s::text[])
"""  # noqa: S608 (constant fragments spliced; every value is bound)


def suppress_small(n: int) -> int | str:
    """`n`, or "<5" when 0 < n < 5."""
    return SUPPRESSED if 0 < n < SMALL_COUNT else n


def per_1000(n: int, population: int | None) -> float | None:
    """`n` per 1,000 inhabitants; None when the population is unknown or the count is small (suppressed)."""
    if not population or 0 < n < SMALL_COUNT:
        return None
    return round(n * 1000 / population, 6)


@dataclass
class Counted:
    """One territory and its counts, gathered from the statement's rows (one per theme)."""

    code: str
    name: str
    kind: str
    population: int | None
    by_theme: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug: (pins, supports)
    previous: int = 0


def request_params(filters: PinFilter) -> dict:
    """The values REQUEST_SQL binds, from the filter (`start`: where the previous period begins)."""
    start = filters.since
    if filters.since:
        # The previous period has the same length and ends where this one starts; `until` defaults to now.
        start = filters.since - ((filters.until or timezone.now()) - filters.since)
    return {**filters.sql_params(), "start": start, "metropole": Territory.Kind.METROPOLE.value}


def fetch_all(sql: str, params: dict) -> list[tuple]:
    """Run one statistics statement; reads follow the router, as the ORM's would (a replica if any)."""
    with connections[router.db_for_read(Pin)].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _counted(sql: str, params: dict) -> dict[str, Counted]:
    """{code: counts} of the territories the statement returns, in its order."""
    fetched = fetch_all(sql, params)
    counted: dict[str, Counted] = {}
    for code, name, kind, population, slug, pins, supports, previous in fetched:
        territory = counted.get(code)
        if territory is None:
            territory = counted[code] = Counted(code, name, kind, population)
        if slug is None:  # no pin at all: the LEFT JOIN's empty row
            continue
        territory.previous += previous
        if pins:  # a theme seen only in the previous period is not in this period's breakdown
            territory.by_theme[slug] = (pins, supports)
    return counted


def trend_of(current: int, previous: int) -> dict:
    """This period's pins against the previous period's; the change only when neither count is small."""
    change = None
    if current >= SMALL_COUNT and previous >= SMALL_COUNT:
        change = round((current - previous) * 100 / previous, 1)
    return {"current": suppress_small(current), "previous": suppress_small(previous), "change_pct": change}


def stats_row(territory: Counted, *, trend: bool) -> dict:
    """The public statistics of one territory: small counts suppressed, their rates hidden."""
    pins = sum(n for n, _ in territory.by_theme.values())
    supports = sum(s for _, s in territory.by_theme.values())
    by_theme = {slug: territory.by_theme[slug][0] for slug in sorted(territory.by_theme)}
    return {
        "code": territory.code,
        "name": territory.name,
        "kind": territory.kind,
        "population": territory.population,
        "pins": suppress_small(pins),
        "supports": suppress_small(supports),
        "per_1000": per_1000(pins, territory.population),
        "by_theme": {slug: suppress_small(n) for slug, n in by_theme.items()},
        "by_theme_per_1000": {slug: per_1000(n, territory.population) for slug, n in by_theme.items()},
        "trend": trend_of(pins, territory.previous) if trend else None,
    }


def _cached(key: str, filters: PinFilter, build):
    """`build()`, kept for the map version when the filter fixes the answer (counts of visible pins and their
    supports, which every write to them bumps). A `since` without `until` ends now: computed every time."""
    if filters.since and not filters.until:
        return build()
    return cached_by_map_version(f"{key}:{filters!r}", build)


def territory_stats(*, level: str, filters: PinFilter) -> list[dict]:
    """Statistics for every territory of a level (commune, ept, arrondissement, qpv), ordered by code."""
    if level not in LEVEL_FIELDS:
        raise InvalidInput(
            "invalid_level", f"level must be one of {', '.join(LEVEL_FIELDS)}", fields={"level": [str(level)]}
        )

    def build() -> dict[str, Counted]:
        return _counted(_LEVEL_SQL[level], {**request_params(filters), "level": level})

    counted = _cached(f"level:{level}", filters, build)
    return [stats_row(territory, trend=bool(filters.since)) for territory in counted.values()]


def territories_compare(*, codes: list[str], filters: PinFilter) -> list[dict]:
    """Statistics of the given territories (any levels), side by side in the order given."""
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes or len(codes) > MAX_COMPARED:
        raise InvalidInput(
            "invalid_territories",
            f"give between 1 and {MAX_COMPARED} territory codes, comma-separated",
            fields={"territories": codes},
        )

    def build() -> dict[str, Counted]:
        return _counted(_COMPARE_SQL, {**request_params(filters), "codes": codes})

    counted = _cached(f"compare:{codes}", filters, build)
    # Unknown codes are found from the answer: checking them first would cost a round trip on every request.
    unknown = [c for c in codes if c not in counted]
    if unknown:
        raise InvalidInput("unknown_territory", "unknown territory code", fields={"territories": unknown})
    return [stats_row(counted[c], trend=bool(filters.since)) for c in codes]
