"""The Web Mercator grid shared by low-zoom tiles, clusters and hexbins, and the map-data version."""

from __future__ import annotations

import math
import time

from django.db import connection, transaction

# Half the width of the Web Mercator world, in metres (EPSG:3857 bounds).
WORLD_HALF = 20037508.342789244
# A tile at zoom z is split into CELLS_PER_TILE × CELLS_PER_TILE cells (16 px cells on a 256 px tile):
# small enough for a smooth heatmap, few enough that a whole-Métropole z8 tile stays a few KB.
CELL_BITS = 4
CELLS_PER_TILE = 2**CELL_BITS
# Tiles up to this zoom are drawn from the stored cells; above it, from the pins themselves.
AGGREGATE_MAX_ZOOM = 12
MAX_ZOOM = 22


def cell_size(zoom: int) -> float:
    """Width of a grid cell at `zoom`, in Web Mercator metres."""
    return 2 * WORLD_HALF / 2 ** (zoom + CELL_BITS)


def cell_of(x: float, y: float, zoom: int) -> tuple[int, int]:
    """Column and row (from the north-west corner, as tile x/y) of a Web Mercator point at `zoom`."""
    size = cell_size(zoom)
    return math.floor((x + WORLD_HALF) / size), math.floor((WORLD_HALF - y) / size)


# A worker re-reads the version at most once per VERSION_TTL seconds: a cache hit then costs no query.
# Another worker's write shows within that delay (tiles are public for MAX_AGE seconds anyway); this
# worker's own writes reset it at once.
VERSION_TTL = 1.0
_version_seen: tuple[int, float] | None = None


def map_version() -> int:
    """The current map-data version (a sequence: reading it takes no lock)."""
    global _version_seen
    now = time.monotonic()
    if _version_seen is not None and now - _version_seen[1] < VERSION_TTL:
        return _version_seen[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM carto_map_version_seq")
        version = cursor.fetchone()[0]
    _version_seen = (version, now)
    return version


def _bump() -> None:
    global _version_seen
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('carto_map_version_seq')")
    _version_seen = None


def map_version_bump() -> None:
    """Bump the version once the current transaction commits.

    After commit, not before: a reader seeing the new version must also see the new rows, or it would
    cache stale tiles under the new key.
    """
    transaction.on_commit(_bump)


# Map clusters are four times wider than heatmap cells: 64 px on a 256 px tile (supercluster's default
# radius of 40 px on 512 px tiles, about the same on screen).
CLUSTER_BITS = 2

# Grid clustering of the visible pins in a box. Every pin falls in exactly one cell, so the counts sum to
# the number of visible pins in the box (the box test is ST_Intersects on the GiST-indexed public location).
_CLUSTERS_SQL = """
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
  ) q
  GROUP BY floor((ST_X(q.g) + %(half)s) / %(size)s), floor((%(half)s - ST_Y(q.g)) / %(size)s)
) s
ORDER BY n DESC, 2, 3
"""


def clusters_in_box(
    *,
    bbox: tuple[float, float, float, float],
    zoom: int,
    statuses: tuple[str, ...],
    theme_ids: tuple[int, ...] | None = None,
    kind: str | None = None,
    since=None,
    until=None,
) -> list[dict]:
    """Visible pins of a WGS84 box grouped per grid cell at `zoom`: count and centroid (lon, lat)."""
    minx, miny, maxx, maxy = bbox
    params = {
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
        "statuses": list(statuses),
        "themes": list(theme_ids) if theme_ids else None,
        "kind": kind,
        "since": since,
        "until": until,
        "half": WORLD_HALF,
        "size": 2 * WORLD_HALF / 2 ** (zoom + CLUSTER_BITS),
    }
    with connection.cursor() as cursor:
        cursor.execute(_CLUSTERS_SQL, params)
        rows = cursor.fetchall()
    return [{"lon": round(lon, 6), "lat": round(lat, 6), "count": n} for n, lon, lat in rows]
