"""Aggregates of visible pins (square cells, hexagons), read by low-zoom tiles, map clusters and hexbins.

A trigger on carto_pin keeps them in step with every write, in the writing transaction (migration 0010);
this module rebuilds them from scratch and serves the hexbins. Writers still call map_version_bump().
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from carto.geo import API_SRID
from carto.models import Pin
from carto.pin_filter import NO_FILTER, PinFilter, filter_sql
from carto.stats.comparisons import SMALL_COUNT, SUPPRESSED
from carto.stats.grid import (
    AGGREGATE_MAX_ZOOM,
    AGGREGATE_MIN_ZOOM,
    CELL_BITS,
    HEX_PER_CELL,
    METROPOLE_BBOX,
    TOTALS_RIM_ZOOM,
    WORLD_HALF,
    hex_range,
    hex_size,
)
from carto.stats.map_version import cached_by_map_version, map_version_bump

# The visible pins in Web Mercator, with the keys the aggregates group on (shared by both rebuilds).
_VISIBLE_POINTS = """
SELECT ST_X(g) AS x, ST_Y(g) AS y, theme_id, kind, month
FROM (
  SELECT ST_Transform(public_location, 3857) AS g, theme_id, kind,
         date_trunc('month', created_at AT TIME ZONE %(tz)s)::date AS month
  FROM carto_pin WHERE status = ANY(%(statuses)s)
  OFFSET 0  -- kept a subquery: each pin is reprojected once, not once per use of g
) a
"""

_REBUILD_CELLS_SQL = f"""
INSERT INTO carto_pin_cell (zoom, cx, cy, theme_id, kind, month, count, sum_x, sum_y)
SELECT z,
       floor((p.x + %(half)s) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cx,
       floor((%(half)s - p.y) / (2 * %(half)s / 2 ^ (z + %(bits)s)))::int AS cy,
       p.theme_id, p.kind, p.month, count(*), sum(p.x), sum(p.y)
FROM ({_VISIBLE_POINTS}) p, generate_series(%(min_zoom)s, %(max_zoom)s) AS z
GROUP BY 1, 2, 3, 4, 5, 6
"""  # noqa: S608 (constant fragments spliced; every value is bound)

_REBUILD_TOTALS_SQL = """
INSERT INTO carto_pin_cell_total (zoom, cx, cy, count, sum_x, sum_y)
SELECT zoom, cx, cy, sum(count), sum(sum_x), sum(sum_y) FROM carto_pin_cell GROUP BY 1, 2, 3
"""

# The totals' rim zoom has no per-theme cells to sum: counted from the pins.
_REBUILD_RIM_TOTALS_SQL = f"""
INSERT INTO carto_pin_cell_total (zoom, cx, cy, count, sum_x, sum_y)
SELECT %(rim_zoom)s,
       floor((p.x + %(half)s) / (2 * %(half)s / 2 ^ (%(rim_zoom)s + %(bits)s)))::int,
       floor((%(half)s - p.y) / (2 * %(half)s / 2 ^ (%(rim_zoom)s + %(bits)s)))::int, count(*), sum(p.x), sum(p.y)
FROM ({_VISIBLE_POINTS}) p
GROUP BY 1, 2, 3
"""  # noqa: S608 (constant fragments spliced; every value is bound)

_REBUILD_HEX_SQL = f"""
INSERT INTO carto_pin_hex (zoom, i, j, theme_id, kind, month, count)
SELECT z, k[1], k[2], p.theme_id, p.kind, p.month, count(*)
FROM ({_VISIBLE_POINTS}) p, generate_series(%(min_zoom)s, %(max_zoom)s) AS z,
     carto_hex_cell(p.x, p.y, 2 * %(half)s / 2 ^ (z + %(bits)s) * %(hex)s) AS k
GROUP BY 1, 2, 3, 4, 5, 6
"""  # noqa: S608 (constant fragments spliced; every value is bound)

_REBUILD_HEX_TOTALS_SQL = """
INSERT INTO carto_pin_hex_total (zoom, i, j, count)
SELECT zoom, i, j, sum(count) FROM carto_pin_hex GROUP BY 1, 2, 3
"""

# Hexagons of the box at `zoom` as a GeoJSON FeatureCollection, built in the database (one row, one
# string): the polygons are PostGIS's own ST_Hexagon, reprojected to WGS84. Read from carto_pin_hex with
# filters, from carto_pin_hex_total (one row per hexagon, ~20x fewer rows at z12) without.
_HEXBINS_TEMPLATE = """
SELECT json_build_object(
  'type', 'FeatureCollection', 'zoom', %(zoom)s, 'hex_m', round(%(size)s::numeric, 1),
  'features', coalesce(json_agg(json_build_object(
    'type', 'Feature',
    'geometry', ST_AsGeoJSON(ST_Transform(ST_Hexagon(%(size)s, s.i, s.j, ST_SetSRID('POINT(0 0)'::geometry, 3857)), %(api)s), 6)::json,
    'properties', json_build_object(
      'i', s.i, 'j', s.j,
      'count', CASE WHEN s.n < %(small)s THEN to_json(%(suppressed)s::text) ELSE to_json(s.n) END)
  ) ORDER BY s.i, s.j), '[]'::json)
)::text
FROM (
  SELECT h.i, h.j, sum(h.count)::int AS n
  FROM {table} h
  WHERE h.zoom = %(zoom)s
    AND h.i BETWEEN %(i0)s AND %(i1)s AND h.j BETWEEN %(j0)s AND %(j1)s
{filters}
  GROUP BY h.i, h.j
  HAVING sum(h.count) > 0
) s
"""
_HEX_FILTERS = "    AND " + filter_sql("h", stored=True)
_HEXBINS_SQL = _HEXBINS_TEMPLATE.replace("{table}", "carto_pin_hex").replace("{filters}", _HEX_FILTERS)
_HEXBINS_TOTAL_SQL = _HEXBINS_TEMPLATE.replace("{table}", "carto_pin_hex_total").replace("{filters}", "")


@transaction.atomic
def aggregates_rebuild() -> int:
    """Recompute every square cell and hexagon from the pins; returns the number of square cells."""
    with connection.cursor() as cursor:
        # The lock keeps concurrent inserts from updating cells between the truncate and the insert.
        # A maintenance run over every pin, not a request: the per-request statement timeout does not apply.
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("LOCK TABLE carto_pin IN SHARE MODE")
        # Deferred foreign-key checks of cells written earlier in this transaction would block TRUNCATE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE carto_pin_cell, carto_pin_cell_total, carto_pin_hex, carto_pin_hex_total")
        params = {
            "half": WORLD_HALF,
            "bits": CELL_BITS,
            "hex": HEX_PER_CELL,
            "tz": settings.TIME_ZONE,
            "statuses": list(Pin.VISIBLE_STATUSES),
            "min_zoom": AGGREGATE_MIN_ZOOM,
            "max_zoom": AGGREGATE_MAX_ZOOM,
            "rim_zoom": TOTALS_RIM_ZOOM,
        }
        cursor.execute(_REBUILD_CELLS_SQL, params)
        cursor.execute(_REBUILD_TOTALS_SQL)
        cursor.execute(_REBUILD_RIM_TOTALS_SQL, params)
        cursor.execute(_REBUILD_HEX_SQL, params)
        cursor.execute(_REBUILD_HEX_TOTALS_SQL)
        cursor.execute("SELECT count(*) FROM carto_pin_cell")
        count = cursor.fetchone()[0]
    map_version_bump()
    return count


def hexbins_query(
    *,
    zoom: int,
    bbox: tuple[float, float, float, float] | None = None,
    pin_filter: PinFilter = NO_FILTER,
    totals: bool = True,
) -> tuple[str, dict]:
    """The (SQL, parameters) that hexbins() runs: also run bare by bench/stats.py.

    Without filters the totals answer (`totals=False`: the per-theme table, the same body).
    """
    zoom = max(zoom, AGGREGATE_MIN_ZOOM)
    size = hex_size(zoom)
    (i0, i1), (j0, j1) = hex_range(bbox or METROPOLE_BBOX, size)
    params = {
        "zoom": zoom,
        "size": size,
        "i0": i0,
        "i1": i1,
        "j0": j0,
        "j1": j1,
        **pin_filter.sql_params(),
        "api": API_SRID,
        "small": SMALL_COUNT,
        "suppressed": SUPPRESSED,
    }
    return (_HEXBINS_TOTAL_SQL if totals and not pin_filter.stored_keys_set else _HEXBINS_SQL), params


def hexbins(
    *,
    zoom: int,
    bbox: tuple[float, float, float, float] | None = None,
    pin_filter: PinFilter = NO_FILTER,
) -> str:
    """Stored hexagons at `zoom` meeting a WGS84 box (default: the Métropole), as GeoJSON text.

    Below AGGREGATE_MIN_ZOOM the hexagons of that zoom are served (the body's `zoom` says which).
    Summed over kinds and months unless filtered. The hexagons are kept per theme, kind and month of every
    visible status: `since` has month granularity here (rounded down to the first day of its month), and the
    filter's `statuses` and `until` are not read. Counts below 5 are suppressed ("<5"), as in every
    aggregate. Kept for the map version (the aggregates change only with it).
    """
    sql, params = hexbins_query(zoom=zoom, bbox=bbox, pin_filter=pin_filter)

    def build() -> str:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    # Keyed by what the statement reads: the hexagon range and the filter on the stored keys.
    key = f"hexbins:{params['zoom']}:{params['i0']}:{params['i1']}:{params['j0']}:{params['j1']}"
    return cached_by_map_version(f"{key}:{params['themes']}:{params['kind']}:{params['month']}", build)
