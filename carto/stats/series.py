"""Monthly series of visible pins per territory: the trend line of each territory compared.

One statement for all the territories asked, through the same pin filters as the comparisons
(carto.stats.comparisons) and the same per-territory probe (every level's column, the Métropole apart).
A month of 1 to 4 pins is suppressed ("<5", no rate), as every count is.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from carto.pin_filter import PinFilter, month_of
from carto.stats.comparisons import (
    LEVEL_FIELDS,
    PINS_WHERE_SQL,
    REQUEST_SQL,
    fetch_all,
    per_1000,
    request_params,
    suppress_small,
)

# Without a period, the last 12 months; a longer period keeps its last 36 months (a readable line).
DEFAULT_MONTHS = 12
MAX_MONTHS = 36

_SERIES_SQL = f"""
SELECT t.code, t.population, c.month, c.pins
FROM {REQUEST_SQL}
CROSS JOIN carto_territory t
LEFT JOIN LATERAL (
  SELECT date_trunc('month', x.created_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS pins
  FROM (
    SELECT p.created_at FROM carto_pin p
    WHERE {PINS_WHERE_SQL}
      AND t.id IN ({", ".join(f"p.{column}" for column in LEVEL_FIELDS.values())})
    UNION ALL
    SELECT p.created_at FROM carto_pin p
    WHERE {PINS_WHERE_SQL}
      AND t.kind = %(metropole)s
  ) x
  GROUP BY 1
) c ON true
WHERE t.code = ANY(%(codes)s::text[])
"""  # noqa: S608 (constant fragments spliced; every value is bound)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def series_months(filters: PinFilter) -> list[dt.date]:
    """The months a series covers (first days, server time zone): the period's, at most MAX_MONTHS."""
    last = month_of(filters.until - dt.timedelta(microseconds=1) if filters.until else timezone.now())
    first = month_of(filters.since) if filters.since else _add_months(last, 1 - DEFAULT_MONTHS)
    first = max(first, _add_months(last, 1 - MAX_MONTHS))
    months: list[dt.date] = []
    while first <= last:
        months.append(first)
        first = _add_months(first, 1)
    return months


def territories_series(*, codes: list[str], filters: PinFilter) -> dict[str, list[dict]]:
    """{code: [{"month": "2025-03", "pins", "per_1000"}, …]} for known territory codes, every month listed."""
    months = series_months(filters)
    if not months:
        return {code: [] for code in codes}
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time.min))
    if filters.since and filters.since > start:
        start = filters.since  # the series sums to the period's count
    params = {**request_params(filters), "start": start, "codes": codes, "tz": settings.TIME_ZONE}
    counts: dict[str, dict[dt.date, int]] = {code: {} for code in codes}
    populations: dict[str, int | None] = {}
    for code, population, month, pins in fetch_all(_SERIES_SQL, params):
        populations[code] = population
        if month is not None:
            counts[code][month] = pins
    return {
        code: [
            {
                "month": month.strftime("%Y-%m"),
                "pins": suppress_small(counts[code].get(month, 0)),
                "per_1000": per_1000(counts[code].get(month, 0), populations.get(code)),
            }
            for month in months
        ]
        for code in codes
    }
