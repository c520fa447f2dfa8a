"""Placing a point in its territories, in PostGIS (GiST index on carto_territory.geometry)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import connection

from carto.geo import STORAGE_SRID

# Points up to this far outside the Métropole outline are accepted and placed in the nearest commune:
# the shared boundaries are generalised to about 100 m, so a real doorstep may fall just outside them.
PERIMETER_TOLERANCE_M = 150

# The rule itself is the SQL function carto_place (carto/sql/carto_place.sql, migration 0013).
_PLACE_SQL = """
SELECT inside, commune_id, arrondissement_id, qpv_id
FROM carto_place(ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s), %(tolerance)s)
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
        inside, commune, arrondissement, qpv = cursor.fetchone()
    return Placement(bool(inside), commune if inside else None, arrondissement, qpv)


# Everything pin_create must know before it writes, in one round trip instead of six (replay
# lookup, placement, the commune's EPT, the reserved id, the device's history, the public location):
# measured in bench/pins_write.py, round trips were most of the cost of POST /api/pins/ next to a bare
# INSERT. Each part is a scalar subquery; the id comes from the sequence only for a new pin, and the
# device history only when a device hash is given. The public location is the first blur candidate
# (carto.services.privacy.blur_candidates) inside the placed commune and QPV, else the point of that
# area closest to the first candidate: a blurred point never leaves the pin's commune or QPV.
_PREFLIGHT_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s) AS geom),
replay AS (SELECT id, request_fingerprint FROM carto_pin WHERE client_uuid = %(client_uuid)s),
placed AS (SELECT pl.* FROM p, carto_place(p.geom, %(tolerance)s) pl),
candidate AS (
  SELECT ord, ST_SetSRID(ST_MakePoint(x, y), %(srid)s) AS geom
  FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) WITH ORDINALITY AS u(x, y, ord)),
area AS (
  SELECT CASE WHEN q.geometry IS NULL THEN m.geometry ELSE ST_Intersection(m.geometry, q.geometry) END AS geom
  FROM placed JOIN carto_territory m ON m.id = placed.commune_id LEFT JOIN carto_territory q ON q.id = placed.qpv_id),
blurred AS (
  SELECT COALESCE(
    (SELECT c.geom FROM candidate c, area WHERE ST_Contains(area.geom, c.geom) ORDER BY c.ord LIMIT 1),
    (SELECT ST_ClosestPoint(area.geom, c.geom) FROM candidate c, area ORDER BY c.ord LIMIT 1)) AS geom)
SELECT
  (SELECT id FROM replay), (SELECT request_fingerprint FROM replay),
  placed.inside, placed.commune_id, placed.arrondissement_id, placed.qpv_id, placed.ept_id,
  CASE WHEN NOT EXISTS (SELECT 1 FROM replay) AND placed.inside
       THEN nextval(pg_get_serial_sequence('carto_pin', 'id')) END,
  h.first_pin_at, h.pins, h.same_text,
  (SELECT json_object_agg(t.id, json_build_array(t.kind, t.code, t.name)) FROM carto_territory t
   WHERE t.id IN (placed.commune_id, placed.arrondissement_id, placed.qpv_id)
      OR t.id = placed.ept_id),
  (SELECT ST_X(geom) FROM blurred), (SELECT ST_Y(geom) FROM blurred)
FROM placed
LEFT JOIN LATERAL (
  SELECT min(created_at) AS first_pin_at, count(*) AS pins, count(*) FILTER (WHERE text = %(text)s) AS same_text
  FROM carto_pin WHERE device_hash = %(device_hash)s
) h ON %(device_hash)s <> ''
"""


@dataclass(frozen=True)
class Preflight:
    replay_id: int | None  # an existing pin with this client_uuid
    replay_fingerprint: str | None
    placement: Placement
    ept_id: int | None
    new_id: int | None  # reserved from the pin sequence, for a new pin inside the Métropole
    first_pin_at: dt.datetime | None  # the device's history (None/0 without a device hash)
    device_pins: int
    device_same_text: int
    territories: dict[
        int, tuple[str, str, str]
    ]  # id -> (kind, code, name) of the four above, for the response
    public_location: Point | None  # None without blur candidates (a theme that is not blurred)


def pin_preflight(
    *, point: Point, client_uuid: uuid.UUID, device_hash: str, text: str, blur_candidates: list
) -> Preflight:
    """Replay lookup, placement (same rules as place_point), EPT, new id, device history and the blurred
    public location, in one SELECT."""
    assert point.srid == STORAGE_SRID
    params = {
        "x": point.x,
        "y": point.y,
        "srid": STORAGE_SRID,
        "tolerance": PERIMETER_TOLERANCE_M,
        "client_uuid": client_uuid,
        "device_hash": device_hash,
        "text": text,
        "xs": [x for x, _ in blur_candidates],
        "ys": [y for _, y in blur_candidates],
    }
    with connection.cursor() as cursor:
        cursor.execute(_PREFLIGHT_SQL, params)
        (
            replay_id,
            fingerprint,
            inside,
            commune,
            arrondissement,
            qpv,
            ept,
            new_id,
            first,
            pins,
            same,
            refs,
            public_x,
            public_y,
        ) = cursor.fetchone()
    placement = Placement(bool(inside), commune if inside else None, arrondissement, qpv)
    territories = {int(key): tuple(value) for key, value in (refs or {}).items()}
    public = None if public_x is None else Point(public_x, public_y, srid=STORAGE_SRID)
    return Preflight(
        replay_id, fingerprint, placement, ept, new_id, first, pins or 0, same or 0, territories, public
    )


# Every pin's territories again from its exact location, for one range of ids (replace_pins after a
# territory import): only rows whose placement changed are written.
_REPLACE_SQL = """
WITH placed AS (
  SELECT p.id, pl.commune_id, pl.ept_id, pl.arrondissement_id, pl.qpv_id
  FROM carto_pin p, carto_place(p.location, %(tolerance)s) pl
  WHERE p.id > %(after)s AND p.id <= %(upto)s
)
UPDATE carto_pin p
SET commune_id = placed.commune_id, ept_id = placed.ept_id,
    arrondissement_id = placed.arrondissement_id, qpv_id = placed.qpv_id
FROM placed
WHERE p.id = placed.id
  AND (p.commune_id, p.ept_id, p.arrondissement_id, p.qpv_id)
      IS DISTINCT FROM (placed.commune_id, placed.ept_id, placed.arrondissement_id, placed.qpv_id)
"""


def pins_place_range(*, after: int, upto: int) -> int:
    """Place the pins with after < id <= upto again; returns how many changed."""
    with connection.cursor() as cursor:
        cursor.execute(_REPLACE_SQL, {"after": after, "upto": upto, "tolerance": PERIMETER_TOLERANCE_M})
        return cursor.rowcount
