"""Orientation tiles: rail lines, stations, QPV outlines and names, one ST_AsMVT statement per tile (as carto.sql.tiles).

What a resident needs to recognise their street without a street basemap: the lines in their official
colours, the stations and their names, and the outlines of the quartiers (QPV). Stored in Lambert-93; the
tile envelope is transformed to 2154 once so the GiST indexes are used; the long line traces and QPV
contours are cut to that box and simplified by half a pixel before their transform to 3857 (a whole RER
trace holds ~2,000 points: measured on the real data, a Paris z14 tile went from 12 ms to 1.1 ms, a z10
tile from 30 ms and 50 KB to 14 ms and 28 KB). ST_AsMVTGeom then clips exactly to the tile and its buffer.
"""

from __future__ import annotations

from django.db import connection

from carto.sql.tiles import BUFFER, EXTENT

# From z10 a tile spans about 40 km (the whole of Paris): lines and QPV outlines are legible from there.
LINES_MIN_ZOOM = 10
QPV_MIN_ZOOM = 10
# A QPV's name from z11 (a quartier is then 20 to 200 px wide), as one point per QPV: the centre of the largest
# circle inside it (ST_MaximumInscribedCircle, the "pole of inaccessibility": inside even a crescent or a
# MultiPolygon's largest part, where a centroid may fall outside), in the one tile that holds it plus the
# others' buffers, so the name is written once and not once per tile a QPV crosses. Its population lets the map
# place the larger quartiers' names first when names collide. The circle is sought in the outline simplified by
# 20 m: all 175 centres take 84 ms instead of 170 ms and still lie 35 m or more inside their QPV (measured on the
# real data); a z11 tile over Seine-Saint-Denis went from 46 ms and 18.2 KB to ~65 ms and 21.4 KB, a z14 tile
# from 5.8 to ~8 ms and 1.8 to 2.1 KB. Tiles are cached for a day on both sides, so this is a first-hit cost.
QPV_LABELS_MIN_ZOOM = 11
# Stations from z12 (a few hundred dots over Paris), their names only from z14 where they fit.
STATIONS_MIN_ZOOM = 12
STATION_NAMES_MIN_ZOOM = 14
# Drawing order inside the lines layer (the last drawn on top): regional trains under, the metro over.
LINE_MODE_ORDER = ["TER", "NAVETTE", "TRAIN", "RER", "TRAMWAY", "METRO"]
# Half a tile unit, as a fraction of the unit's Web Mercator size: Lambert-93 metres are real metres, and a
# Web Mercator metre is cos(48.85°) ≈ 0.66 real metre in the Métropole. Simplifying by less than half a
# pixel changes no drawn pixel.
HALF_PIXEL = 0.5 * 0.66

ORIENTATION_SQL = """
WITH b AS (
  SELECT env, ST_Transform(ST_Expand(env, (ST_XMax(env) - ST_XMin(env)) * %(buffer)s / %(extent)s), 2154) AS box,
         (ST_XMax(env) - ST_XMin(env)) / %(extent)s * %(half_px)s AS half_px
  FROM (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env) e
)
SELECT coalesce((SELECT ST_AsMVT(l.*, 'rail_lines', %(extent)s, 'geom') FROM (
           SELECT r.label, r.mode, r.colour,
                  ST_AsMVTGeom(ST_Transform(ST_Simplify(ST_ClipByBox2D(r.geometry, b.box::box2d), b.half_px), 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
           FROM carto_railline r, b
           WHERE %(z)s >= %(lines_min)s AND r.geometry && b.box
           ORDER BY array_position(%(mode_order)s::text[], r.mode::text), r.label
         ) l WHERE l.geom IS NOT NULL), ''::bytea)
    || coalesce((SELECT ST_AsMVT(s.*, 'stations', %(extent)s, 'geom') FROM (
           SELECT st.code, CASE WHEN %(z)s >= %(names_min)s THEN st.name END AS name,
                  array_to_string(st.lines, ' ') AS lines, st.line_colours[1] AS colour,
                  ST_AsMVTGeom(ST_Transform(st.location, 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
           FROM carto_station st, b
           WHERE %(z)s >= %(stations_min)s AND st.location && b.box
           ORDER BY cardinality(st.lines) DESC, st.code
         ) s WHERE s.geom IS NOT NULL), ''::bytea)
    || coalesce((SELECT ST_AsMVT(q.*, 'qpv', %(extent)s, 'geom') FROM (
           SELECT t.code, t.name,
                  ST_AsMVTGeom(ST_Transform(ST_Simplify(ST_ClipByBox2D(t.geometry, b.box::box2d), b.half_px), 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
           FROM carto_territory t, b
           WHERE %(z)s >= %(qpv_min)s AND t.kind = 'qpv' AND t.geometry && b.box
         ) q WHERE q.geom IS NOT NULL), ''::bytea)
    || coalesce((SELECT ST_AsMVT(n.*, 'qpv_labels', %(extent)s, 'geom') FROM (
           SELECT t.code, t.name, coalesce(t.population, 0) AS population,
                  ST_AsMVTGeom(ST_Transform((ST_MaximumInscribedCircle(ST_Simplify(t.geometry, 20))).center, 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
           FROM carto_territory t, b
           WHERE %(z)s >= %(qpv_labels_min)s AND t.kind = 'qpv' AND t.geometry && b.box
           ORDER BY t.population DESC NULLS LAST, t.code
         ) n WHERE n.geom IS NOT NULL), ''::bytea)
"""


def orientation_params(z: int, x: int, y: int) -> dict:
    """The parameters of ORIENTATION_SQL for one tile (bench/places.py runs the same pair bare)."""
    return {
        "z": z,
        "x": x,
        "y": y,
        "extent": EXTENT,
        "buffer": BUFFER,
        "lines_min": LINES_MIN_ZOOM,
        "stations_min": STATIONS_MIN_ZOOM,
        "names_min": STATION_NAMES_MIN_ZOOM,
        "qpv_min": QPV_MIN_ZOOM,
        "qpv_labels_min": QPV_LABELS_MIN_ZOOM,
        "mode_order": LINE_MODE_ORDER,
        "half_px": HALF_PIXEL,
    }


def orientation_tile(z: int, x: int, y: int) -> bytes:
    """One tile: layers rail_lines (label, mode, colour), stations (code, name from z14, lines, colour), qpv
    (code, name) and qpv_labels (code, name, population: one point per QPV, from z11)."""
    with connection.cursor() as cursor:
        cursor.execute(ORIENTATION_SQL, orientation_params(z, x, y))
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
