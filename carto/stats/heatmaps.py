"""Grid-cell aggregates of visible pins: kept up to date on writes, read by low-zoom tiles and hexbins."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carto.geo import API_SRID
from carto.models import Pin
from carto.stats.comparisons import suppress_small
from carto.stats.grid import AGGREGATE_MAX_ZOOM, CELL_BITS, WORLD_HALF, cell_size, map_version_bump

# One statement for every stored zoom: one round trip per pin insert, whatever the number of zooms.
# Rows are upserted in zoom order, so two concurrent inserts lock shared cells in the same order.
_ADD_SQL = """
WITH p AS (
  SELECT ST_X(g) AS x, ST_Y(g) AS y
  FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s), 3857) AS g) a
)
INSERT INTO carto_pin_cell AS c (zoom, cx, cy, theme_id, kind, month, count, sum_x, sum_y)
SELECT z,
       floor((p.x + %(half)s) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int,
       floor((%(half)s - p.y) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int,
       %(theme)s, %(kind)s, %(month)s, 1, p.x, p.y
FROM p, generate_series(0, %(max_zoom)s) AS z
ORDER BY z
ON CONFLICT (zoom, cx, cy, theme_id, kind, month) DO UPDATE
SET count = c.count + 1, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y
"""

# Removal only updates existing cells (an upsert would check count >= 0 on the proposed row first).
_REMOVE_SQL = """
WITH p AS (
  SELECT ST_X(g) AS x, ST_Y(g) AS y
  FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s), 3857) AS g) a
),
k AS (
  SELECT z AS zoom,
         floor((p.x + %(half)s) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cx,
         floor((%(half)s - p.y) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cy,
         p.x, p.y
  FROM p, generate_series(0, %(max_zoom)s) AS z
)
UPDATE carto_pin_cell c
SET count = c.count - 1, sum_x = c.sum_x - k.x, sum_y = c.sum_y - k.y
FROM k
WHERE c.zoom = k.zoom AND c.cx = k.cx AND c.cy = k.cy
  AND c.theme_id = %(theme)s AND c.kind = %(kind)s AND c.month = %(month)s AND c.count > 0
"""

_REBUILD_SQL = """
INSERT INTO carto_pin_cell (zoom, cx, cy, theme_id, kind, month, count, sum_x, sum_y)
SELECT z,
       floor((p.x + %(half)s) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cx,
       floor((%(half)s - p.y) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cy,
       p.theme_id, p.kind, p.month, count(*), sum(p.x), sum(p.y)
FROM (
  SELECT ST_X(g) AS x, ST_Y(g) AS y, theme_id, kind, month
  FROM (
    SELECT ST_Transform(public_location, 3857) AS g, theme_id, kind,
           date_trunc('month', created_at AT TIME ZONE %(tz)s)::date AS month
    FROM carto_pin WHERE status = ANY(%(statuses)s)
  ) a
) p, generate_series(0, %(max_zoom)s) AS z
GROUP BY 1, 2, 3, 4, 5, 6
"""

_HEXBINS_SQL = """
SELECT cx, cy, sum(count)::int AS n,
       ST_X(ST_Transform(ST_SetSRID(ST_MakePoint(sum(sum_x) / sum(count), sum(sum_y) / sum(count)), 3857), %(api)s)),
       ST_Y(ST_Transform(ST_SetSRID(ST_MakePoint(sum(sum_x) / sum(count), sum(sum_y) / sum(count)), 3857), %(api)s))
FROM carto_pin_cell c
WHERE c.zoom = %(zoom)s
  AND (%(themes)s::int[] IS NULL OR c.theme_id = ANY(%(themes)s::int[]))
  AND (%(month)s::date IS NULL OR c.month >= %(month)s::date)
GROUP BY cx, cy
HAVING sum(count) > 0
ORDER BY cx, cy
"""


def month_of(moment: dt.datetime) -> dt.date:
    """First day of the month of `moment`, in the server's time zone (the month key of the cells)."""
    return timezone.localtime(moment).date().replace(day=1)


def _apply(pin: Pin, sign: int) -> None:
    location = pin.public_location
    params = {
        "x": location.x,
        "y": location.y,
        "srid": location.srid,
        "half": WORLD_HALF,
        "bits": CELL_BITS,
        "theme": pin.theme_id,
        "kind": pin.kind,
        "month": month_of(pin.created_at),
        "max_zoom": AGGREGATE_MAX_ZOOM,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL if sign > 0 else _REMOVE_SQL, params)
    map_version_bump()


def aggregates_add_pin(pin: Pin) -> None:
    """Count a newly visible pin in its cells at every stored zoom (no-op for a pin the public cannot see).

    Call after pin_create, and when a pending or hidden pin becomes visible.
    """
    if pin.is_visible:
        _apply(pin, +1)


def aggregates_remove_pin(pin: Pin) -> None:
    """Uncount a pin that was visible and no longer is (hidden, deleted). Call in the same transaction."""
    _apply(pin, -1)


def aggregates_status_changed(*, pin: Pin, old_status: str) -> None:
    """Keep the cells right after a status change: only crossing the visibility boundary matters."""
    was_visible = old_status in Pin.VISIBLE_STATUSES
    if was_visible and not pin.is_visible:
        _apply(pin, -1)
    elif pin.is_visible and not was_visible:
        _apply(pin, +1)
    else:
        map_version_bump()  # the status is a tile property: cached tiles must change


@transaction.atomic
def aggregates_rebuild() -> int:
    """Recompute every cell from the pins; returns the number of cells."""
    with connection.cursor() as cursor:
        # The lock keeps concurrent inserts from updating cells between the truncate and the insert.
        # A maintenance run over every pin, not a request: the per-request statement timeout does not apply.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("LOCK TABLE carto_pin IN SHARE MODE")
        # Deferred foreign-key checks of cells written earlier in this transaction would block TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE carto_pin_cell")
        cursor.execute(
            _REBUILD_SQL,
            {
                "half": WORLD_HALF,
                "bits": CELL_BITS,
                "tz": settings.TIME_ZONE,
                "statuses": list(Pin.VISIBLE_STATUSES),
                "max_zoom": AGGREGATE_MAX_ZOOM,
            },
        )
        cursor.execute("SELECT count(*) FROM carto_pin_cell")
        count = cursor.fetchone()[0]
    map_version_bump()
    return count


def hexbins(
    *, zoom: int, theme_ids: tuple[int, ...] | None = None, since: dt.datetime | None = None
) -> list[dict]:
    """Stored cells at `zoom` (summed over kinds and months), with their centroid in WGS84.

    `since` has month granularity here: it is rounded down to the first day of its month.
    Counts below 5 are suppressed ("<5"), as in every aggregate.
    """
    params = {
        "zoom": zoom,
        "themes": list(theme_ids) if theme_ids else None,
        "month": month_of(since) if since else None,
        "api": API_SRID,
    }
    with connection.cursor() as cursor:
        cursor.execute(_HEXBINS_SQL, params)
        rows = cursor.fetchall()
    size = cell_size(zoom)
    return [
        {
            "cx": cx,
            "cy": cy,
            "count": suppress_small(n),
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "cell_m": round(size, 1),
        }
        for cx, cy, n, lon, lat in rows
    ]
