"""A small street basemap written by the tests: three streets in OpenMapTiles' layers, cut by PostGIS ST_AsMVT,
gzipped as tilemaker does and packed into a PMTiles file by the `pmtiles` writer."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from django.db import connection
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from tests.api.test_tiles import tile_of

# Bois de Boulogne, Paris 16e: no station nor QPV outline of ours within a few hundred metres to draw over them.
# `name` as the OpenMapTiles schema writes it; `name:latin` alone as Debian's tilemaker 2.2 does. The third is
# the first's homonym across the Bois, in Boulogne-Billancourt: the places search must tell them apart.
STREETS = [
    {
        "name": "Allée des Essais",
        "latin": None,
        "class": "minor",
        "wkt": "LINESTRING(2.2480 48.8630, 2.2580 48.8630)",
    },
    {
        "name": None,
        "latin": "Route des Tests",
        "class": "secondary",
        "wkt": "LINESTRING(2.2530 48.8600, 2.2530 48.8660)",
    },
    {
        "name": "Allée des Essais",
        "latin": None,
        "class": "minor",
        "wkt": "LINESTRING(2.2380 48.8390, 2.2440 48.8390)",  # Boulogne-Billancourt, north of its town hall
    },
]
CENTRE = (2.2520, 48.8630)  # on the Allée des Essais, just west of its crossing with the Route des Tests
ZOOMS = range(12, 15)  # z12-14; MapLibre overzooms the z14 tiles deeper, as with tilemaker's files
BOUNDS = (2.2380, 48.8390, 2.2580, 48.8660)

_TILE_SQL = """
WITH streets(name, latin, class, geom) AS (
    SELECT s->>'name', s->>'latin', s->>'class', ST_Transform(ST_GeomFromText(s->>'wkt', 4326), 3857)
    FROM jsonb_array_elements(%(streets)s::jsonb) AS s
), envelope AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS box)
SELECT
    (SELECT ST_AsMVT(t, 'transportation') FROM (
        SELECT class, ST_AsMVTGeom(geom, box) AS geom FROM streets, envelope WHERE geom && box) t)
    || (SELECT ST_AsMVT(t, 'transportation_name') FROM (
        SELECT class, name, latin AS "name:latin", ST_AsMVTGeom(geom, box) AS geom
        FROM streets, envelope WHERE geom && box) t)
"""


def street_tile(z: int, x: int, y: int, streets: list[dict] = STREETS) -> bytes:
    """One MVT tile of the streets (PostGIS writes it), as raw bytes."""
    with connection.cursor() as cursor:
        cursor.execute(_TILE_SQL, {"streets": json.dumps(streets), "z": z, "x": x, "y": y})
        return bytes(cursor.fetchone()[0])


def write_street_basemap(
    path: Path, streets: list[dict] = STREETS, bounds: tuple[float, float, float, float] = BOUNDS
) -> Path:
    """Write the PMTiles file of the streets' tiles at z12-14 (those covering `bounds`) to `path`."""
    west, south, east, north = bounds
    tiles = {}
    for z in ZOOMS:
        _, x0, y0 = tile_of(west, north, z)
        _, x1, y1 = tile_of(east, south, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                data = street_tile(z, x, y, streets)
                if data:  # no street: no tile, as tilemaker leaves empty tiles out
                    tiles[zxy_to_tileid(z, x, y)] = gzip.compress(data, mtime=0)
    e7 = lambda degrees: round(degrees * 10_000_000)  # noqa: E731
    header = {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": e7(west),
        "min_lat_e7": e7(south),
        "max_lon_e7": e7(east),
        "max_lat_e7": e7(north),
        "center_zoom": 14,
        "center_lon_e7": e7(CENTRE[0]),
        "center_lat_e7": e7(CENTRE[1]),
    }
    layers = [{"id": name, "fields": {}} for name in ("transportation", "transportation_name")]
    with write(str(path)) as writer:
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, tiles[tile_id])
        writer.finalize(header, {"vector_layers": layers, "attribution": "test streets"})
    return path
