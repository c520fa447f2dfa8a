"""Map groups: the grouped dots of the map (GET /api/pins/clusters/), counts summing exactly to the visible
pins of a box. Not to be confused with clusters of the same need (carto.services.clustering)."""

from __future__ import annotations

import math

from django.db import connection
from django.utils import timezone

from carto.stats.grid import (
    AGGREGATE_MAX_ZOOM,
    AGGREGATE_MIN_ZOOM,
    CELL_BITS,
    WORLD_HALF,
    cell_size,
    cells_sql,
    mercator,
)

# Map groups are four times wider than heatmap cells: 64 px on a 256 px tile (supercluster's default
# radius of 40 px on 512 px tiles, about the same on screen).
GROUP_BITS = 2

# Grid clustering of the visible pins in a box. Every pin falls in exactly one cell, so the counts sum to
# the number of visible pins in the box (the box test is ST_Intersects on the GiST-indexed public location).
_GROUPS_SQL = """
WITH box AS (SELECT ST_Transform(ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326), 2154) AS g)
SELECT n::int, ST_X(c), ST_Y(c) FROM (
  SELECT count(*) AS n,
         ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(q.g)), avg(ST_Y(q.g))), 3857), 4326) AS c
  FROM (
    SELECT ST_Transform(p.public_location, 3857) AS g
    FROM carto_pin p, box
    WHERE ST_Intersects(p.public_location, box.g)
      AND p.status = ANY(%(statuses)s::text[])
      AND (%(themes)s::int[] IS NULL OR p.theme_id = ANY(%(themes)s::int[]))
      AND (%(kind)s::text IS NULL OR p.kind = %(kind)s::text)
      AND (%(since)s::timestamptz IS NULL OR p.created_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR p.created_at < %(until)s::timestamptz)
    OFFSET 0  -- kept a subquery: each pin is reprojected once, not once per use of g
  ) q
  GROUP BY floor((ST_X(q.g) + %(half)s) / %(size)s), floor((%(half)s - ST_Y(q.g)) / %(size)s)
) s
ORDER BY n DESC, 2, 3
"""


# Stored-cell path (zoom ≤ AGGREGATE_MAX_ZOOM, filters the cells can answer). The box B is the WGS84
# envelope transformed to Lambert-93 (straight edges there), exactly as in _GROUPS_SQL. A "core" rectangle
# of whole stored cells is chosen inside B; its pins are read from carto_pin_cell, every other pin of B from
# carto_pin (grouped the same way), so the counts stay exact.
#
# Step 1: the core rectangle's corners in Lambert-93. The core lies inside B when its corners lie inside B
# shrunk by `eps`, which bounds how far the image of a straight Web Mercator edge bends away from its chord
# (B is convex). `inner` is an axis-aligned Lambert-93 rectangle inside the image of the core: pins strictly
# inside it are core pins, so the raw scan only needs the four strips of B around it (GiST-indexed).
_CORE_SQL = """
WITH b AS (SELECT ST_Transform(ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326), 2154) AS g),
k AS (
  SELECT ST_Transform(ST_SetSRID(ST_MakePoint(%(x0)s, %(y0)s), 3857), 2154) AS sw,
         ST_Transform(ST_SetSRID(ST_MakePoint(%(x1)s, %(y0)s), 3857), 2154) AS se,
         ST_Transform(ST_SetSRID(ST_MakePoint(%(x1)s, %(y1)s), 3857), 2154) AS ne,
         ST_Transform(ST_SetSRID(ST_MakePoint(%(x0)s, %(y1)s), 3857), 2154) AS nw
)
SELECT ST_CoveredBy(ST_Collect(ARRAY[sw, se, ne, nw]), ST_Buffer(b.g, -%(eps)s)),
       ST_XMin(b.g), ST_YMin(b.g), ST_XMax(b.g), ST_YMax(b.g),
       greatest(ST_X(sw), ST_X(nw)) + %(eps)s, greatest(ST_Y(sw), ST_Y(se)) + %(eps)s,
       least(ST_X(se), ST_X(ne)) - %(eps)s, least(ST_Y(nw), ST_Y(ne)) - %(eps)s
FROM b, k
"""

# Step 2: stored core cells + raw pins of the strips outside the core, both grouped per cluster cell (a
# cluster cell at zoom z is 2^shift × 2^shift stored cells at zoom `szoom`: cx >> shift). The core is made of
# fine cells (zoom `szoom`, a thin border) whose inner part is read as coarse cells (zoom `czoom`).
# The stored cells' filters, and the tables they read: carto_pin_cell with filters, carto_pin_cell_total
# (one row per cell) without.
_GROUPS_STORED_TEMPLATE = """
WITH box AS (SELECT ST_Transform(ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326), 2154) AS g),
stored AS (
  -- The core's inner part, in coarse cells (few rows) ...
  SELECT c.cx >> %(cshift)s AS gx, c.cy >> %(cshift)s AS gy,
         sum(c.count)::bigint AS n, sum(c.sum_x) AS sx, sum(c.sum_y) AS sy
  FROM {table} c
  WHERE c.zoom = %(czoom)s
    AND c.cx BETWEEN %(ccx0)s AND %(ccx1)s AND c.cy BETWEEN %(ccy0)s AND %(ccy1)s
{filters}
  GROUP BY 1, 2
  UNION ALL
  -- ... and the core's rim around it, in fine cells (a thin border left to count pin by pin).
  SELECT c.cx >> %(shift)s AS gx, c.cy >> %(shift)s AS gy,
         sum(c.count)::bigint AS n, sum(c.sum_x) AS sx, sum(c.sum_y) AS sy
  FROM {table} c
  WHERE c.zoom = %(szoom)s
    AND ((c.cx BETWEEN %(cx0)s AND %(cx1)s AND c.cy BETWEEN %(cy0)s AND %(fy0)s - 1)
         OR (c.cx BETWEEN %(cx0)s AND %(cx1)s AND c.cy BETWEEN %(fy1)s + 1 AND %(cy1)s)
         OR (c.cx BETWEEN %(cx0)s AND %(fx0)s - 1 AND c.cy BETWEEN %(fy0)s AND %(fy1)s)
         OR (c.cx BETWEEN %(fx1)s + 1 AND %(cx1)s AND c.cy BETWEEN %(fy0)s AND %(fy1)s))
{filters}
  GROUP BY 1, 2
),
edge AS MATERIALIZED (  -- materialized: each border pin is reprojected once
  SELECT floor((ST_X(q.g) + %(half)s) / %(ssize)s)::int AS cx, floor((%(half)s - ST_Y(q.g)) / %(ssize)s)::int AS cy,
         ST_X(q.g) AS x, ST_Y(q.g) AS y
  FROM (
    SELECT ST_Transform(p.public_location, 3857) AS g
    FROM carto_pin p, box
    WHERE (p.public_location && ST_MakeEnvelope(%(bx0)s, %(iy1)s, %(bx1)s, %(by1)s, 2154)
           OR p.public_location && ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(iy0)s, 2154)
           OR p.public_location && ST_MakeEnvelope(%(bx0)s, %(iy0)s, %(ix0)s, %(iy1)s, 2154)
           OR p.public_location && ST_MakeEnvelope(%(ix1)s, %(iy0)s, %(bx1)s, %(iy1)s, 2154))
      AND ST_Intersects(p.public_location, box.g)
      AND p.status = ANY(%(statuses)s::text[])
      AND (%(themes)s::int[] IS NULL OR p.theme_id = ANY(%(themes)s::int[]))
      AND (%(kind)s::text IS NULL OR p.kind = %(kind)s::text)
      AND (%(since)s::timestamptz IS NULL OR p.created_at >= %(since)s::timestamptz)
    OFFSET 0  -- kept a subquery: each pin is reprojected once, not once per use of g
  ) q
),
raw AS (
  SELECT cx >> %(shift)s AS gx, cy >> %(shift)s AS gy, count(*) AS n, sum(x) AS sx, sum(y) AS sy
  FROM edge
  WHERE NOT (cx BETWEEN %(cx0)s AND %(cx1)s AND cy BETWEEN %(cy0)s AND %(cy1)s)
  GROUP BY 1, 2
)
SELECT n::int, ST_X(c), ST_Y(c) FROM (
  SELECT sum(u.n) AS n,
         ST_Transform(ST_SetSRID(ST_MakePoint(sum(u.sx) / sum(u.n), sum(u.sy) / sum(u.n)), 3857), 4326) AS c
  FROM (SELECT * FROM stored UNION ALL SELECT * FROM raw) u
  GROUP BY u.gx, u.gy
  HAVING sum(u.n) > 0
) s
ORDER BY n DESC, 2, 3
"""
_GROUPS_STORED_SQL = cells_sql(_GROUPS_STORED_TEMPLATE, filtered=True)
_GROUPS_TOTAL_SQL = cells_sql(_GROUPS_STORED_TEMPLATE, filtered=False)


# The core is cut in fine cells at AGGREGATE_MAX_ZOOM (the border left to count pin by pin stays thin), and
# its inner part read at the finest zoom where the box spans at most this many cells (few stored rows).
CORE_CELLS_ACROSS = 16
# Smallest radius of curvature (m) of the Lambert-93 image of a Web Mercator parallel (a Lambert-93 arc)
# between these latitudes: 4,540 km at 60° (5,780 km at 49°); a Mercator metre is 0.5–0.9 Lambert-93 metre
# there. It bounds how far a core edge bends away from its chord. Other boxes count pins one by one.
_MIN_RADIUS = 4_000_000.0
_MIN_LATITUDE, _MAX_LATITUDE = 30.0, 60.0


def _is_month_start(moment) -> bool:
    local = timezone.localtime(moment)
    return local == local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def stored_cells_apply(*, zoom: int, statuses, since, until) -> bool:
    """Whether the stored cells can answer: low zoom, every visible status, `since` on a month start."""
    return (
        zoom <= AGGREGATE_MAX_ZOOM
        and statuses is None
        and until is None
        and (since is None or _is_month_start(since))
    )


def _stored_plan(bbox, zoom: int) -> dict | None:
    """Stored zoom, core cell range and raw-scan strips for the box, or None when no whole cell fits."""
    minx, miny, maxx, maxy = bbox
    if miny < _MIN_LATITUDE or maxy > _MAX_LATITUDE:
        return None
    (ex0, ey0), (ex1, ey1) = mercator(minx, miny), mercator(maxx, maxy)
    span = max(ex1 - ex0, ey1 - ey0)
    szoom = AGGREGATE_MAX_ZOOM
    size = cell_size(szoom)
    # The Lambert-93 box's straight edges stray from the exact lon/lat rectangle by less than a chord's bend.
    eps = 1.0 + span * span / (8 * _MIN_RADIUS)
    shrink = 5 * eps  # a first guess of a core inside the box, checked below
    cx0 = math.ceil((ex0 + shrink + WORLD_HALF) / size)
    cx1 = math.floor((ex1 - shrink + WORLD_HALF) / size) - 1
    cy0 = math.ceil((WORLD_HALF - (ey1 - shrink)) / size)
    cy1 = math.floor((WORLD_HALF - (ey0 + shrink)) / size) - 1
    if cx0 > cx1 or cy0 > cy1:
        return None
    core = {
        "x0": cx0 * size - WORLD_HALF,
        "x1": (cx1 + 1) * size - WORLD_HALF,
        "y0": WORLD_HALF - (cy1 + 1) * size,
        "y1": WORLD_HALF - cy0 * size,
        "eps": eps,
    }
    with connection.cursor() as cursor:
        cursor.execute(_CORE_SQL, {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, **core})
        inside, bx0, by0, bx1, by1, ix0, iy0, ix1, iy1 = cursor.fetchone()
    if not inside or ix0 >= ix1 or iy0 >= iy1:
        return None
    czoom = max(zoom - (CELL_BITS - GROUP_BITS), AGGREGATE_MIN_ZOOM)
    while czoom < szoom and span / cell_size(czoom + 1) <= CORE_CELLS_ACROSS:
        czoom += 1
    # Coarse cells lying inside the fine core; none: the whole core is read in fine cells.
    k = szoom - czoom
    ccx0, ccx1 = -(-cx0 >> k), ((cx1 + 1) >> k) - 1
    ccy0, ccy1 = -(-cy0 >> k), ((cy1 + 1) >> k) - 1
    if ccx0 > ccx1 or ccy0 > ccy1:
        czoom, k, ccx0, ccx1, ccy0, ccy1 = szoom, 0, cx0, cx1, cy0, cy1
    return {
        "czoom": czoom,
        "cshift": czoom + CELL_BITS - zoom - GROUP_BITS,
        "ccx0": ccx0,
        "ccx1": ccx1,
        "ccy0": ccy0,
        "ccy1": ccy1,
        # The coarse part in fine cell numbers: the rim is the fine core outside it.
        "fx0": ccx0 << k,
        "fx1": ((ccx1 + 1) << k) - 1,
        "fy0": ccy0 << k,
        "fy1": ((ccy1 + 1) << k) - 1,
        "szoom": szoom,
        "ssize": size,
        "shift": szoom + CELL_BITS - zoom - GROUP_BITS,
        "cx0": cx0,
        "cx1": cx1,
        "cy0": cy0,
        "cy1": cy1,
        **dict(bx0=bx0, by0=by0, bx1=bx1, by1=by1, ix0=ix0, iy0=iy0, ix1=ix1, iy1=iy1),
    }


def map_groups_in_box(
    *,
    bbox: tuple[float, float, float, float],
    zoom: int,
    statuses: tuple[str, ...] | None = None,
    theme_ids: tuple[int, ...] | None = None,
    kind: str | None = None,
    since=None,
    until=None,
    use_cells: bool = True,
) -> list[dict]:
    """Visible pins of a WGS84 box grouped per grid cell at `zoom`: count and centroid (lon, lat).

    `statuses` None means every visible status. Up to AGGREGATE_MAX_ZOOM, and when the filters are ones the
    stored cells carry (theme, kind, `since` on a month start), whole cells inside the box are read from
    carto_pin_cell (carto_pin_cell_total without filters) and only the pins of the border are counted one by one; `use_cells=False` forces the
    pin-by-pin statement (the reference the stored path must match exactly).
    """
    from carto.models import Pin

    minx, miny, maxx, maxy = bbox
    params = {
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
        "statuses": list(statuses or Pin.VISIBLE_STATUSES),
        "themes": list(theme_ids) if theme_ids else None,
        "kind": kind,
        "since": since,
        "until": until,
        "half": WORLD_HALF,
        "size": 2 * WORLD_HALF / 2 ** (zoom + GROUP_BITS),
    }
    sql = _GROUPS_SQL
    plan = None
    if use_cells and stored_cells_apply(zoom=zoom, statuses=statuses, since=since, until=until):
        plan = _stored_plan(bbox, zoom)
    if plan is not None:
        from carto.stats.heatmaps import month_of

        unfiltered = not theme_ids and kind is None and since is None
        sql = _GROUPS_TOTAL_SQL if unfiltered else _GROUPS_STORED_SQL
        params.update(plan, month=month_of(since) if since else None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [{"lon": round(lon, 6), "lat": round(lat, 6), "count": n} for n, lon, lat in rows]
