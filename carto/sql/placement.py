"""Placing a point in its territories, in PostGIS (GiST index on carto_territory.geometry)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import connection

from carto.geo import STORAGE_SRID

# Points up to this far outside the Métropole outline are accepted and placed in the nearest commune:
# the shared boundaries are generalised to about 100 m, so a real doorstep may fall just outside them.
PERIMETER_TOLERANCE_M = 150

_PLACE_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s) AS geom)
SELECT
  (SELECT ST_DWithin(t.geometry, p.geom, %(tolerance)s) FROM carto_territory t WHERE t.kind = 'metropole'),
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'commune' AND ST_Intersects(t.geometry, p.geom)
     ORDER BY t.code LIMIT 1),
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'commune' ORDER BY t.geometry <-> p.geom, t.code LIMIT 1),
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'arrondissement' AND ST_Intersects(t.geometry, p.geom)
     ORDER BY t.code LIMIT 1),
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'qpv' AND t.geometry IS NOT NULL
     AND ST_Intersects(t.geometry, p.geom) ORDER BY t.code LIMIT 1)
FROM p
"""


@dataclass(frozen=True)
class Placement:
    inside_metropole: bool
    commune_id: int | None
    arrondissement_id: int | None
    qpv_id: int | None


def place_point(point: Point) -> Placement:
    """Territories containing a Lambert-93 point.

    Border rule: a point on a shared boundary belongs to the territory with the lowest code (deterministic).
    A point in the tolerance band outside every commune goes to the nearest commune.
    """
    assert point.srid == STORAGE_SRID
    params = {"x": point.x, "y": point.y, "srid": STORAGE_SRID, "tolerance": PERIMETER_TOLERANCE_M}
    with connection.cursor() as cursor:
        cursor.execute(_PLACE_SQL, params)
        inside, commune, nearest, arrondissement, qpv = cursor.fetchone()
    return Placement(bool(inside), commune or (nearest if inside else None), arrondissement, qpv)


_BLUR_SQL = """
WITH c AS (
  SELECT ord, ST_SetSRID(ST_MakePoint(x, y), %(srid)s) AS geom
  FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) WITH ORDINALITY AS u(x, y, ord)
),
area AS (
  SELECT CASE WHEN q.geometry IS NULL THEN m.geometry ELSE ST_Intersection(m.geometry, q.geometry) END AS geom
  FROM carto_territory m LEFT JOIN carto_territory q ON q.id = %(qpv)s
  WHERE m.id = %(commune)s
)
SELECT ST_X(pt), ST_Y(pt) FROM (
  SELECT COALESCE(
    (SELECT c.geom FROM c, area WHERE ST_Contains(area.geom, c.geom) ORDER BY c.ord LIMIT 1),
    (SELECT ST_ClosestPoint(area.geom, c.geom) FROM c, area ORDER BY c.ord LIMIT 1)
  ) AS pt
) s
"""


def first_candidate_inside(
    *, candidates: list[tuple[float, float]], commune_id: int, qpv_id: int | None
) -> Point:
    """The first candidate inside the commune (and QPV when known), else the area point closest to the first."""
    params = {
        "srid": STORAGE_SRID,
        "xs": [x for x, _ in candidates],
        "ys": [y for _, y in candidates],
        "commune": commune_id,
        "qpv": qpv_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_BLUR_SQL, params)
        x, y = cursor.fetchone()
    return Point(x, y, srid=STORAGE_SRID)
