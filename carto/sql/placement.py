"""Placing a point in its territories, in PostGIS (GiST index on carto_territory.geometry)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import connection

from carto.geo import STORAGE_SRID
from carto.models import Theme

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


# Everything pin_create must know (and count) before it writes, in one round trip: the SQL function
# carto_pin_preflight (carto/sql/carto_pin_preflight.sql, migration 0018): replay lookup, placement, the
# commune's EPT, the territories' names, the reserved id, the device's history, the public location, the
# theme check and the throttle counters. Measured in bench/pins_write.py: round trips, and planning the
# statement on every pin, were most of the cost of POST /api/pins/ next to a bare INSERT.
_PREFLIGHT_SQL = """
SELECT * FROM carto_pin_preflight(
  ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s), %(tolerance)s, %(client_uuid)s::uuid,
  %(theme_id)s::bigint, %(theme_slug)s::varchar, %(theme_parent_id)s::bigint, %(theme_blur)s::integer,
  %(device_hash)s::varchar, %(text)s::text, %(xs)s::float8[], %(ys)s::float8[],
  %(keys)s::varchar[], %(area_key)s::varchar, %(new_device_key)s::varchar, %(now)s::timestamptz,
  %(new_device_window)s::interval, %(window_start)s::timestamptz, %(previous_start)s::timestamptz)
"""


@dataclass(frozen=True)
class Counting:
    """The throttle counters a screened pin write hits (carto.services.abuse.pin_write_keys), counted by the
    preflight for a new pin inside the Métropole whose theme is current."""

    keys: list[str]
    area_key: str  # the commune's id is appended
    new_device_key: (
        str | None
    )  # counted only when the device is new (no pin, or a first pin within the window)
    new_device_window: dt.timedelta
    window_start: dt.datetime
    previous_start: dt.datetime


@dataclass(frozen=True)
class Preflight:
    replay_id: int | None  # an existing pin with this client_uuid
    replay_fingerprint: str | None
    theme_current: bool  # the theme given is still the stored one (id, slug, parent, blur radius)
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
    hits: dict[str, tuple[int, int]]  # key -> (this window, the previous one), when counted


def pin_preflight(
    *,
    point: Point,
    client_uuid: uuid.UUID,
    theme: Theme,
    device_hash: str,
    text: str,
    blur_candidates: list,
    counting: Counting | None = None,
    now: dt.datetime | None = None,
) -> Preflight:
    """Replay lookup, placement (same rules as place_point), EPT, new id, device history, the blurred
    public location, the theme check and, with `counting`, the throttle counters, in one call."""
    assert point.srid == STORAGE_SRID
    params = {
        "x": point.x,
        "y": point.y,
        "srid": STORAGE_SRID,
        "tolerance": PERIMETER_TOLERANCE_M,
        "client_uuid": client_uuid,
        "theme_id": theme.pk,
        "theme_slug": theme.slug,
        "theme_parent_id": theme.parent_id,
        "theme_blur": theme.blur_meters,
        "device_hash": device_hash,
        "text": text,
        "xs": [x for x, _ in blur_candidates],
        "ys": [y for _, y in blur_candidates],
        "keys": counting.keys if counting else [],
        "area_key": counting.area_key if counting else None,
        "new_device_key": counting.new_device_key if counting else None,
        "now": now,
        "new_device_window": counting.new_device_window if counting else None,
        "window_start": counting.window_start if counting else None,
        "previous_start": counting.previous_start if counting else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PREFLIGHT_SQL, params)
        (
            replay_id,
            fingerprint,
            theme_current,
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
            hit_keys,
            hit_current,
            hit_previous,
        ) = cursor.fetchone()
    placement = Placement(bool(inside), commune if inside else None, arrondissement, qpv)
    territories = {int(key): tuple(value) for key, value in (refs or {}).items()}
    public = None if public_x is None else Point(public_x, public_y, srid=STORAGE_SRID)
    hits = dict(zip(hit_keys or [], zip(hit_current or [], hit_previous or [], strict=True), strict=True))
    return Preflight(
        replay_id, fingerprint, bool(theme_current), placement, ept, new_id, first, pins or 0, same or 0,
        territories, public, hits,
    )  # fmt: skip


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


# Pins of one range of ids whose public point carto_place puts in other territories than those they publish
# (blurred before carto_blur kept them together, or placed again since): id, exact point, blur radius.
_DISAGREEING_SQL = """
SELECT p.id, ST_X(p.location), ST_Y(p.location), t.blur_meters
FROM carto_pin p
JOIN carto_theme t ON t.id = p.theme_id
CROSS JOIN LATERAL carto_place(p.public_location, 0) c
WHERE p.id > %(after)s AND p.id <= %(upto)s AND t.blur_meters > 0
  AND (c.commune_id, c.arrondissement_id, c.qpv_id)
      IS DISTINCT FROM (p.commune_id, p.arrondissement_id, p.qpv_id)
ORDER BY p.id
"""
_REBLUR_SQL = """
UPDATE carto_pin p
SET public_location = carto_blur(p.location, %(xs)s, %(ys)s, p.commune_id, p.arrondissement_id, p.qpv_id,
                                 %(meters)s)
WHERE p.id = %(id)s
"""


def pins_disagreeing(*, after: int, upto: int) -> list[tuple[int, float, float, int]]:
    """(id, x, y, blur meters) of the pins with after < id <= upto shown in other territories than theirs."""
    with connection.cursor() as cursor:
        cursor.execute(_DISAGREEING_SQL, {"after": after, "upto": upto})
        return cursor.fetchall()


def pin_reblur(*, pin_id: int, candidates: list[tuple[float, float]], meters: int) -> None:
    """The pin's public location again, by carto_blur from its `candidates` (carto.services.privacy)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _REBLUR_SQL,
            {
                "id": pin_id,
                "xs": [x for x, _ in candidates],
                "ys": [y for _, y in candidates],
                "meters": meters,
            },
        )
