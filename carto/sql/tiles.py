"""Mapbox Vector Tiles built in PostGIS (ST_AsMVT over ST_AsMVTGeom), from pins, stored cells or territories.

SQL rather than the ORM: one statement per tile, bound parameters, measured in bench/tiles.py against the
same statement run bare through psycopg. Pins are stored in Lambert-93; the tile envelope is transformed
to 2154 once per tile so the GiST index on public_location is used, and only the selected points are
transformed to 3857.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from carto.pin_filter import NO_FILTER, PinFilter, filter_sql
from carto.stats.grid import (
    AGGREGATE_MIN_ZOOM,
    CELL_BITS,
    CELLS_PER_TILE,
    WORLD_HALF,
    cell_size,
    cells_sql,
)

EXTENT = 4096
BUFFER = 64
# A z13+ tile over the densest quartier keeps at most this many pins (the most supported first): about
# 20 bytes each, so a full tile stays far under 500 KB.
FEATURE_CAP = 5000
PIN_FILTER_SQL = filter_sql("p")

# Pins of one tile, public fields only. The envelope is widened by the buffer before the index filter so
# points drawn in the buffer of a neighbouring tile are not lost.
PIN_POINTS_SQL = f"""
WITH b AS (
  SELECT env, ST_Transform(ST_Expand(env, (ST_XMax(env) - ST_XMin(env)) * %(buffer)s / %(extent)s), 2154) AS box
  FROM (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env) e
)
SELECT ST_AsMVT(t.*, 'pins', %(extent)s, 'geom') FROM (
  SELECT p.id, p.kind, th.slug AS theme, p.status, p.support_count, 1 AS count,
         ST_AsMVTGeom(ST_Transform(p.public_location, 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
  FROM carto_pin p JOIN carto_theme th ON th.id = p.theme_id, b
  WHERE p.public_location && b.box
    AND {PIN_FILTER_SQL}
  ORDER BY p.support_count DESC, p.id DESC
  LIMIT %(cap)s
) t
"""  # noqa: S608 (constant fragments spliced; every value is bound)

# Low zooms: the stored cells of the tile (CELLS_PER_TILE² at most), one feature per cell at its centroid.
# Below AGGREGATE_MIN_ZOOM the finest stored cells are regrouped (`shift` bits coarser).
PIN_CELLS_TEMPLATE = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env)
SELECT ST_AsMVT(t.*, 'pins', %(extent)s, 'geom') FROM (
  SELECT g.n::int AS count,
         ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(g.sx / g.n, g.sy / g.n), 3857), b.env, %(extent)s, %(buffer)s, true)
           AS geom
  FROM (
    SELECT c.cx >> %(shift)s AS cx, c.cy >> %(shift)s AS cy, sum(c.count) AS n, sum(c.sum_x) AS sx,
           sum(c.sum_y) AS sy
    FROM {table} c
    WHERE c.zoom = %(stored_zoom)s
      AND c.cx BETWEEN %(scx0)s AND %(scx1)s AND c.cy BETWEEN %(scy0)s AND %(scy1)s
{filters}
    GROUP BY 1, 2
    HAVING sum(c.count) > 0
  ) g, b
) t
"""


PIN_CELLS_SQL = cells_sql(PIN_CELLS_TEMPLATE, filtered=True)
PIN_TOTAL_CELLS_SQL = cells_sql(PIN_CELLS_TEMPLATE, filtered=False)


# Low zooms with a status or `until` filter (not part of the cell key): the same grid, computed from the pins.
PIN_LIVE_CELLS_SQL = f"""
WITH b AS (SELECT env, ST_Transform(env, 2154) AS box FROM (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env) e)
SELECT ST_AsMVT(t.*, 'pins', %(extent)s, 'geom') FROM (
  SELECT g.n::int AS count,
         ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(g.sx / g.n, g.sy / g.n), 3857), b.env, %(extent)s, %(buffer)s, true)
           AS geom
  FROM (
    SELECT floor((ST_X(q.g) + %(half)s) / %(size)s) AS cx, floor((%(half)s - ST_Y(q.g)) / %(size)s) AS cy,
           count(*) AS n, sum(ST_X(q.g)) AS sx, sum(ST_Y(q.g)) AS sy
    FROM (
      SELECT ST_Transform(p.public_location, 3857) AS g
      FROM carto_pin p, b
      WHERE p.public_location && b.box
        AND {PIN_FILTER_SQL}
      OFFSET 0  -- kept a subquery: each pin is reprojected once, not once per use of g
    ) q
    GROUP BY 1, 2
  ) g, b
  WHERE g.cx BETWEEN %(cx0)s AND %(cx1)s AND g.cy BETWEEN %(cy0)s AND %(cy1)s
) t
"""  # noqa: S608 (constant fragments spliced; every value is bound)

# The background map without any external tile server: communes, EPT and arrondissements outlines.
TERRITORY_SQL = """
WITH b AS (
  SELECT env, ST_Transform(ST_Expand(env, (ST_XMax(env) - ST_XMin(env)) * %(buffer)s / %(extent)s), 2154) AS box
  FROM (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env) e
),
f AS (
  SELECT t.kind, t.code, t.name,
         ST_AsMVTGeom(ST_Transform(t.geometry, 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
  FROM carto_territory t, b
  WHERE t.kind IN ('commune', 'ept', 'arrondissement') AND t.geometry && b.box
)
SELECT coalesce((SELECT ST_AsMVT(c.*, 'communes', %(extent)s, 'geom')
                 FROM (SELECT code, name, geom FROM f WHERE kind = 'commune' AND geom IS NOT NULL) c), ''::bytea)
    || coalesce((SELECT ST_AsMVT(e.*, 'ept', %(extent)s, 'geom')
                 FROM (SELECT code, name, geom FROM f WHERE kind = 'ept' AND geom IS NOT NULL) e), ''::bytea)
    || coalesce((SELECT ST_AsMVT(a.*, 'arrondissements', %(extent)s, 'geom')
                 FROM (SELECT code, name, geom FROM f WHERE kind = 'arrondissement' AND geom IS NOT NULL) a),
                ''::bytea)
"""


@dataclass(frozen=True)
class PinTileQuery:
    """A pin tile request, validated: tile address and filters."""

    z: int
    x: int
    y: int
    pin_filter: PinFilter = NO_FILTER

    def sql_and_params(self, *, aggregated: bool) -> tuple[str, dict]:
        """The statement and its parameters (bench/tiles.py runs the same pair bare through psycopg)."""
        params = {
            "z": self.z,
            "x": self.x,
            "y": self.y,
            "extent": EXTENT,
            "buffer": BUFFER,
            **self.pin_filter.sql_params(),
            "cap": FEATURE_CAP,
            "half": WORLD_HALF,
            "size": cell_size(self.z),
            "cx0": self.x * CELLS_PER_TILE,
            "cx1": self.x * CELLS_PER_TILE + CELLS_PER_TILE - 1,
            "cy0": self.y * CELLS_PER_TILE,
            "cy1": self.y * CELLS_PER_TILE + CELLS_PER_TILE - 1,
            "bits": CELL_BITS,
        }
        # The stored cells read: this zoom's, or the finest stored ones regrouped `shift` bits coarser.
        shift = max(AGGREGATE_MIN_ZOOM - self.z, 0)
        params.update(
            stored_zoom=self.z + shift,
            shift=shift,
            scx0=params["cx0"] << shift,
            scx1=((params["cx1"] + 1) << shift) - 1,
            scy0=params["cy0"] << shift,
            scy1=((params["cy1"] + 1) << shift) - 1,
        )
        if not aggregated:
            return PIN_POINTS_SQL, params
        if not self.pin_filter.stored_cells_answer(exact_since=False):
            return PIN_LIVE_CELLS_SQL, params
        if not self.pin_filter.stored_keys_set:
            return PIN_TOTAL_CELLS_SQL, params
        return PIN_CELLS_SQL, params


def _fetch_bytes(sql: str, params: dict) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def pin_tile(query: PinTileQuery, *, aggregated: bool) -> bytes:
    """One pin tile: points (public fields only) or, when `aggregated`, counts per grid cell."""
    sql, params = query.sql_and_params(aggregated=aggregated)
    return _fetch_bytes(sql, params)


def territory_tile(z: int, x: int, y: int) -> bytes:
    """One tile of territory outlines, layers communes, ept and arrondissements (properties code, name)."""
    return _fetch_bytes(TERRITORY_SQL, {"z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER})
