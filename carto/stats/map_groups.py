"""Map groups: the grouped dots of the map (GET /api/pins/clusters/), counts summing exactly to the visible
pins of a box. Not to be confused with clusters of the same need (carto.services.clustering)."""

from __future__ import annotations

import math

from django.contrib.gis.gdal import OGRGeometry
from django.db import connection

from carto.geo import API_SRID, STORAGE_SRID, transform_between
from carto.models import Pin
from carto.pin_filter import NO_FILTER, PinFilter, filter_sql
from carto.stats.grid import (
    AGGREGATE_MAX_ZOOM,
    AGGREGATE_MIN_ZOOM,
    CELL_BITS,
    GROUP_BITS,
    TOTALS_RIM_ZOOM,
    WORLD_HALF,
    cell_size,
    cells_sql,
    mercator_box,
)
from carto.stats.map_index import MapIndex

# The pins a request keeps (carto.pin_filter), in both statements: the pin-by-pin one and the stored cells' border.
PIN_FILTER_SQL = filter_sql("p")

# The box rule, a map screen's: a pin is in the box when the Web Mercator x/y of its public location lie in
# the box's Web Mercator rectangle (carto.stats.grid.mercator_box, bounds included), the very test of the
# in-memory index (carto.stats.map_index) and of the bench's bare count. The GiST index narrows the scan
# first, to a Lambert-93 rectangle holding the whole box (_storage_envelope).
#
# Grid clustering of the visible pins in a box. Every pin falls in exactly one cell, so the counts sum to
# the number of visible pins in the box.
_GROUPS_SQL = f"""
SELECT n::int, ST_X(c), ST_Y(c) FROM (
  SELECT count(*) AS n,
         ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(q.g)), avg(ST_Y(q.g))), 3857), 4326) AS c
  FROM (
    SELECT ST_Transform(p.public_location, 3857) AS g
    FROM carto_pin p
    WHERE p.public_location && ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, 2154)
      AND {PIN_FILTER_SQL}
    OFFSET 0  -- kept a subquery: each pin is reprojected once, not once per use of g
  ) q
  WHERE ST_X(q.g) BETWEEN %(mx0)s AND %(mx1)s AND ST_Y(q.g) BETWEEN %(my0)s AND %(my1)s
  GROUP BY floor((ST_X(q.g) + %(half)s) / %(size)s), floor((%(half)s - ST_Y(q.g)) / %(size)s)
) s
ORDER BY n DESC, 2, 3
"""  # noqa: S608 (constant fragments spliced; every value is bound)


# The box rule alone, as a bare count of the visible pins of a box: the reference that tests and
# bench/clusters_supercluster.py hold both paths to. Narrowed by the WGS84 envelope transformed to Lambert-93
# with 1 km to spare (more than any arc's bulge at a map's scale), independently of _storage_envelope; for
# boxes in Lambert-93's domain (a map request's: parse_bbox clips them to Île-de-France and 1° around).
BOX_COUNT_SQL = """
SELECT count(*) FROM (
  SELECT ST_Transform(p.public_location, 3857) AS g FROM carto_pin p
  WHERE p.public_location && ST_Expand(ST_Transform(ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326), 2154), 1000)
    AND p.status = ANY(%(statuses)s)
) q
WHERE ST_X(q.g) BETWEEN %(mx0)s AND %(mx1)s AND ST_Y(q.g) BETWEEN %(my0)s AND %(my1)s
"""


def box_count_params(bbox: tuple[float, float, float, float]) -> dict:
    """BOX_COUNT_SQL's parameters for a WGS84 box."""
    mx0, my0, mx1, my1 = mercator_box(bbox)
    minx, miny, maxx, maxy = bbox
    return dict(minx=minx, miny=miny, maxx=maxx, maxy=maxy, mx0=mx0, my0=my0, mx1=mx1, my1=my1,
                statuses=list(Pin.VISIBLE_STATUSES))  # fmt: skip


# Stored-cell path (zoom ≤ AGGREGATE_MAX_ZOOM, filters the cells can answer), same box rule. A "core"
# rectangle of whole stored cells is chosen inside the box's Web Mercator rectangle (_stored_plan, in Python:
# no round trip); its pins are read from carto_pin_cell, every other pin of the box from carto_pin (grouped
# the same way), so the counts stay exact. `inner` is an axis-aligned Lambert-93 rectangle inside the image
# of the core: pins strictly inside it are core pins, so the raw scan only needs the four strips of the
# box's Lambert-93 envelope around it (GiST-indexed).
#
# The statement: stored core cells + raw pins of the strips outside the core, both grouped per map group (a
# group at zoom z is 2^shift × 2^shift stored cells at zoom zs: cx >> shift). The core is a nest of rectangles
# of whole cells: its inner part is read in coarse cells (zoom `czoom`, few rows), the rings around it in
# finer cells (AGGREGATE_MAX_ZOOM, then TOTALS_RIM_ZOOM without filters), so that the border left to count pin
# by pin stays thin. The stored cells' filters, and the tables they read: carto_pin_cell with filters,
# carto_pin_cell_total (one row per cell) without.
_CORE_SQL = """
  SELECT c.cx >> %(cshift)s AS gx, c.cy >> %(cshift)s AS gy,
         sum(c.count)::bigint AS n, sum(c.sum_x) AS sx, sum(c.sum_y) AS sy
  FROM {table} c
  WHERE c.zoom = %(czoom)s
    AND c.cx BETWEEN %(ccx0)s AND %(ccx1)s AND c.cy BETWEEN %(ccy0)s AND %(ccy1)s
{filters}
  GROUP BY 1, 2"""
# A ring: the cells of rectangle r{n} (zoom rzoom{n}) outside rectangle i{n}, its inner rectangle.
_RING_SQL = """
  SELECT c.cx >> %(rshift{n})s AS gx, c.cy >> %(rshift{n})s AS gy,
         sum(c.count)::bigint AS n, sum(c.sum_x) AS sx, sum(c.sum_y) AS sy
  FROM {table} c
  WHERE c.zoom = %(rzoom{n})s
    AND ((c.cx BETWEEN %(rx0{n})s AND %(rx1{n})s AND c.cy BETWEEN %(ry0{n})s AND %(iy0{n})s - 1)
         OR (c.cx BETWEEN %(rx0{n})s AND %(rx1{n})s AND c.cy BETWEEN %(iy1{n})s + 1 AND %(ry1{n})s)
         OR (c.cx BETWEEN %(rx0{n})s AND %(ix0{n})s - 1 AND c.cy BETWEEN %(iy0{n})s AND %(iy1{n})s)
         OR (c.cx BETWEEN %(ix1{n})s + 1 AND %(rx1{n})s AND c.cy BETWEEN %(iy0{n})s AND %(iy1{n})s))
{filters}
  GROUP BY 1, 2"""
_GROUPS_STORED_TEMPLATE = """
WITH stored AS ({stored}
),
edge AS MATERIALIZED (  -- materialized: each border pin is reprojected once
  SELECT floor((ST_X(q.g) + %(half)s) / %(ssize)s)::int AS cx, floor((%(half)s - ST_Y(q.g)) / %(ssize)s)::int AS cy,
         ST_X(q.g) AS x, ST_Y(q.g) AS y
  FROM (
    -- The four strips joined, not OR'ed: the planner then estimates no GiST selectivity per strip (0.15 ms
    -- of its ~0.8 ms). A pin on a line two strips share is met twice: DISTINCT ON keeps it once.
    SELECT DISTINCT ON (p.id) ST_Transform(p.public_location, 3857) AS g
    FROM (VALUES (ST_MakeEnvelope(%(bx0)s, %(iy1)s, %(bx1)s, %(by1)s, 2154)),
                      (ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(iy0)s, 2154)),
                      (ST_MakeEnvelope(%(bx0)s, %(iy0)s, %(ix0)s, %(iy1)s, 2154)),
                      (ST_MakeEnvelope(%(ix1)s, %(iy0)s, %(bx1)s, %(iy1)s, 2154))) AS strip (e)
    JOIN carto_pin p ON p.public_location && strip.e
    WHERE {PIN_FILTER_SQL}
  ) q
),
raw AS (
  SELECT cx >> %(shift)s AS gx, cy >> %(shift)s AS gy, count(*) AS n, sum(x) AS sx, sum(y) AS sy
  FROM edge
  WHERE x BETWEEN %(mx0)s AND %(mx1)s AND y BETWEEN %(my0)s AND %(my1)s
    AND NOT (cx BETWEEN %(cx0)s AND %(cx1)s AND cy BETWEEN %(cy0)s AND %(cy1)s)
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


def _stored_template(rings: int) -> str:
    """The statement with the core's inner part and `rings` rings (constant fragments, values bound)."""
    parts = [_CORE_SQL, *(_RING_SQL.replace("{n}", str(n)) for n in range(rings))]
    statement = _GROUPS_STORED_TEMPLATE.replace("{PIN_FILTER_SQL}", PIN_FILTER_SQL)
    return statement.replace("{stored}", "\n  UNION ALL".join(parts))


# Filters: rings at AGGREGATE_MAX_ZOOM only (carto_pin_cell); none: at TOTALS_RIM_ZOOM too.
_FILTERED_RINGS, _TOTAL_RINGS = 1, 2
_GROUPS_STORED_SQL = cells_sql(_stored_template(_FILTERED_RINGS), filtered=True)
_GROUPS_TOTAL_SQL = cells_sql(_stored_template(_TOTAL_RINGS), filtered=False)


# The core's inner part is read at the finest zoom where the box spans at most this many cells (few rows).
CORE_CELLS_ACROSS = 16
# Lambert-93 is a conic projection (central meridian 3°E): meridians are straight lines through the cone's
# apex, north of France, and parallels are circles around it. A WGS84 box is thus a ring sector there: its
# west and east sides are meridian segments, its north and south sides arcs bulging south, lowest nearest
# the central meridian. Boxes outside these latitudes (never a map request: parse_bbox clips them) scan
# every pin.
_MIN_LATITUDE, _MAX_LATITUDE = 30.0, 60.0
_CENTRAL_MERIDIAN = 3.0
# Metres kept around Lambert-93 rectangles: PROJ through GDAL here and PostGIS there agree to 1e-9 m.
_SLACK = 1.0
# Web Mercator metres between a whole stored cell and the box's edge: far above the rounding of a pin's
# cell (~4e-9 m), far below anything visible.
_CELL_MARGIN = 1e-5
_EARTH_RADIUS = 6378137.0
_EVERYWHERE = (-1e9, -1e9, 1e9, 1e9)


def _lambert93(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Lambert-93 coordinates of WGS84 (lon, lat) points (one GDAL call, ~60 µs)."""
    multipoint = OGRGeometry(
        "MULTIPOINT(" + ",".join(f"{lon!r} {lat!r}" for lon, lat in points) + ")", API_SRID
    )
    multipoint.transform(transform_between(API_SRID, STORAGE_SRID))
    return multipoint.coords


def _lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS84 (lon, lat) of a Web Mercator point."""
    return math.degrees(x / _EARTH_RADIUS), math.degrees(math.atan(math.sinh(y / _EARTH_RADIUS)))


def _storage_envelope(bbox) -> tuple[float, float, float, float]:
    """A Lambert-93 rectangle holding the whole WGS84 box: the GiST index's narrowing.

    Its corners bound it west, east and north (the sides are meridians, the north arc is highest at its
    ends); south, the lowest point of the south arc, nearest the central meridian.
    """
    minx, miny, maxx, maxy = bbox
    if miny < _MIN_LATITUDE or maxy > _MAX_LATITUDE:
        return _EVERYWHERE
    points = _lambert93([
        (minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy),
        (min(max(_CENTRAL_MERIDIAN, minx), maxx), miny),
    ])  # fmt: skip
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs) - _SLACK, min(ys) - _SLACK, max(xs) + _SLACK, max(ys) + _SLACK


def _nested_cores(fine: int, core: tuple[int, int, int, int], coarser: tuple[int, ...]) -> list[tuple]:
    """(zoom, (x0, x1, y0, y1)) from the fine core inwards: the whole cells of each coarser zoom inside the
    previous rectangle, while there are any."""
    cores = [(fine, core)]
    for zoom in coarser:
        outer_zoom, (x0, x1, y0, y1) = cores[-1]
        k = outer_zoom - zoom
        if k <= 0:
            continue
        inner = (-(-x0 >> k), ((x1 + 1) >> k) - 1, -(-y0 >> k), ((y1 + 1) >> k) - 1)
        if inner[0] > inner[1] or inner[2] > inner[3]:
            break
        cores.append((zoom, inner))
    return cores


def _stored_plan(
    bbox, zoom: int, *, fine: int = AGGREGATE_MAX_ZOOM, rings: int = _FILTERED_RINGS
) -> dict | None:
    """Nested core cell ranges and raw-scan strips for the box, or None when no whole cell fits.

    `fine`: the zoom of the outermost core (TOTALS_RIM_ZOOM when the totals answer), `rings`: how many rings
    the statement reads around the innermost core (unused ones are empty).
    """
    minx, miny, maxx, maxy = bbox
    if miny < _MIN_LATITUDE or maxy > _MAX_LATITUDE:
        return None
    ex0, ey0, ex1, ey1 = mercator_box(bbox)
    span = max(ex1 - ex0, ey1 - ey0)
    size = cell_size(fine)
    cx0 = math.ceil((ex0 + _CELL_MARGIN + WORLD_HALF) / size)
    cx1 = math.floor((ex1 - _CELL_MARGIN + WORLD_HALF) / size) - 1
    cy0 = math.ceil((WORLD_HALF - (ey1 - _CELL_MARGIN)) / size)
    cy1 = math.floor((WORLD_HALF - (ey0 + _CELL_MARGIN)) / size) - 1
    if cx0 > cx1 or cy0 > cy1:
        return None
    (west, north), (east, south) = (
        _lonlat(cx0 * size - WORLD_HALF, WORLD_HALF - cy0 * size),
        _lonlat((cx1 + 1) * size - WORLD_HALF, WORLD_HALF - (cy1 + 1) * size),
    )
    # The core's corners and the lowest point of its north arc (nearest the central meridian).
    csw, cse, cne, cnw, north_low = _lambert93([
        (west, south), (east, south), (east, north), (west, north),
        (min(max(_CENTRAL_MERIDIAN, west), east), north),
    ])  # fmt: skip
    # The inner rectangle: meridian sides are straight, the south arc is highest at its ends.
    ix0, ix1 = max(csw[0], cnw[0]) + _SLACK, min(cse[0], cne[0]) - _SLACK
    iy0, iy1 = max(csw[1], cse[1]) + _SLACK, north_low[1] - _SLACK
    if ix0 >= ix1 or iy0 >= iy1:
        return None
    bx0, by0, bx1, by1 = _storage_envelope(bbox)
    czoom = max(zoom - (CELL_BITS - GROUP_BITS), AGGREGATE_MIN_ZOOM)
    while czoom < AGGREGATE_MAX_ZOOM and span / cell_size(czoom + 1) <= CORE_CELLS_ACROSS:
        czoom += 1
    cores = _nested_cores(fine, (cx0, cx1, cy0, cy1), (AGGREGATE_MAX_ZOOM, czoom))[: rings + 1]

    def shift(z: int) -> int:  # stored cells at zoom z per map group at `zoom`: 2^shift across
        return z + CELL_BITS - zoom - GROUP_BITS

    inner_zoom, (ccx0, ccx1, ccy0, ccy1) = cores[-1]
    plan = {
        "czoom": inner_zoom,
        "cshift": shift(inner_zoom),
        "ccx0": ccx0,
        "ccx1": ccx1,
        "ccy0": ccy0,
        "ccy1": ccy1,
    }
    # Rings from the innermost outwards: cores[-2] around cores[-1], …; the unused ones empty (inner = outer).
    for n in range(rings):
        outer = cores[-2 - n] if n + 2 <= len(cores) else cores[-1]
        inner = cores[-1 - n] if n + 2 <= len(cores) else cores[-1]
        (rzoom, (rx0, rx1, ry0, ry1)), (izoom, (jx0, jx1, jy0, jy1)) = outer, inner
        k = rzoom - izoom
        plan.update({
            f"rzoom{n}": rzoom, f"rshift{n}": shift(rzoom),
            f"rx0{n}": rx0, f"rx1{n}": rx1, f"ry0{n}": ry0, f"ry1{n}": ry1,
            f"ix0{n}": jx0 << k, f"ix1{n}": ((jx1 + 1) << k) - 1, f"iy0{n}": jy0 << k, f"iy1{n}": ((jy1 + 1) << k) - 1,
        })  # fmt: skip
    return {
        **plan,
        # The raw scan: pins of B outside the fine core, grouped from their cell at the fine zoom.
        "ssize": size,
        "shift": shift(fine),
        "cx0": cx0,
        "cx1": cx1,
        "cy0": cy0,
        "cy1": cy1,
        **dict(bx0=bx0, by0=by0, bx1=bx1, by1=by1, ix0=ix0, iy0=iy0, ix1=ix1, iy1=iy1),
    }


def pin_by_pin_params(bbox, zoom: int, pin_filter: PinFilter = NO_FILTER) -> dict:
    """The parameters of the pin-by-pin statement (_GROUPS_SQL), also read by the stored-cell statements."""
    mx0, my0, mx1, my1 = mercator_box(bbox)
    bx0, by0, bx1, by1 = _storage_envelope(bbox)
    return {
        **dict(mx0=mx0, my0=my0, mx1=mx1, my1=my1, bx0=bx0, by0=by0, bx1=bx1, by1=by1),
        **pin_filter.sql_params(),
        "half": WORLD_HALF,
        "size": 2 * WORLD_HALF / 2 ** (zoom + GROUP_BITS),
    }


def map_groups_in_box(
    *,
    bbox: tuple[float, float, float, float],
    zoom: int,
    pin_filter: PinFilter = NO_FILTER,
    use_cells: bool = True,
    index: MapIndex | None = None,
) -> list[dict]:
    """Visible pins of a WGS84 box grouped per grid cell at `zoom`: count and centroid (lon, lat).

    Up to AGGREGATE_MAX_ZOOM, and when the filter is one the stored cells carry (theme, kind, `since` on a
    month start), whole cells inside the box are read from carto_pin_cell (carto_pin_cell_total without
    filters) and only the pins of the border are counted one by one; `use_cells=False` forces the pin-by-pin
    statement (the reference the stored path must match exactly). With `index` (carto.stats.map_index_holder
    hands it out when it can answer `pin_filter`), the groups are read from memory instead, identical.
    """
    if index is not None:
        return index.groups(mercator_box(bbox), zoom, theme_ids=pin_filter.theme_ids)
    params = pin_by_pin_params(bbox, zoom, pin_filter)
    sql = _GROUPS_SQL
    plan = None
    unfiltered = not pin_filter.stored_keys_set
    if use_cells and zoom <= AGGREGATE_MAX_ZOOM and pin_filter.stored_cells_answer(exact_since=True):
        if unfiltered:
            plan = _stored_plan(bbox, zoom, fine=TOTALS_RIM_ZOOM, rings=_TOTAL_RINGS)
        else:
            plan = _stored_plan(bbox, zoom)
    if plan is not None:
        sql = _GROUPS_TOTAL_SQL if unfiltered else _GROUPS_STORED_SQL
        params.update(plan)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [{"lon": round(lon, 6), "lat": round(lat, 6), "count": n} for n, lon, lat in rows]
