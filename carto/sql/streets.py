"""Streets from the basemap's segments, in PostGIS: tile coordinates to Lambert-93, placement, merging.

SQL because every step is geometry over every segment of the Métropole: PostGIS turns each segment's tile
coordinates into Web Mercator (ST_TileEnvelope, the tile's own box), cuts off the buffer a tile shares with its
neighbours (so a segment is not counted twice), places it by the one placement rule (carto_place), and joins
a street's pieces (ST_Union, ST_LineMerge) per name and territory. Python only reads and decodes the tiles.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from carto.geo import STORAGE_SRID

# One row per named line of a tile: its tile address, the layer's extent and the geometry in tile
# coordinates (GeoJSON, y pointing down as in the MVT encoding).
_SEGMENTS_TABLE_SQL = """
CREATE TEMPORARY TABLE carto_street_segment (
  z integer NOT NULL, x integer NOT NULL, y integer NOT NULL, extent integer NOT NULL,
  name text NOT NULL, geojson text NOT NULL
)
"""

# Streets outside the Métropole (tolerance band excepted) are dropped: no pin can be placed there. Each
# segment goes to the territories of a point on it: a street crossing a commune limit is split at tile
# edges and junctions first, so its pieces mostly fall on their own side (the outlines are generalised to
# ~100 m anyway). Spellings of one name that share a search key are one street, under its commonest one.
_STREETS_SQL = """
WITH segments AS (
  SELECT s.name, carto_search_key(s.name) AS key,
         ST_Transform(ST_CollectionExtract(ST_Intersection(
           ST_SetSRID(ST_Affine(ST_GeomFromGeoJSON(s.geojson),
             (ST_XMax(e.box) - ST_XMin(e.box)) / s.extent, 0, 0, (ST_YMin(e.box) - ST_YMax(e.box)) / s.extent,
             ST_XMin(e.box), ST_YMax(e.box)), 3857),
           e.box), 2), %(srid)s) AS geom
  FROM carto_street_segment s
  CROSS JOIN LATERAL (SELECT ST_TileEnvelope(s.z, s.x, s.y) AS box) e
),
placed AS (
  SELECT s.name, s.key, s.geom, pl.commune_id, pl.arrondissement_id
  FROM segments s
  CROSS JOIN LATERAL carto_place(ST_PointOnSurface(s.geom), %(tolerance)s) pl
  WHERE NOT ST_IsEmpty(s.geom) AND s.key <> '' AND pl.inside
),
streets AS (
  SELECT p.commune_id, p.arrondissement_id, p.key, mode() WITHIN GROUP (ORDER BY p.name) AS name,
         ST_Multi(ST_LineMerge(ST_Union(p.geom))) AS geometry
  FROM placed p
  GROUP BY p.commune_id, p.arrondissement_id, p.key
)
INSERT INTO carto_street (code, name, commune_id, arrondissement_id, geometry)
SELECT coalesce(a.code, c.code) || '-' || left(md5(s.key), 8), s.name, s.commune_id, s.arrondissement_id,
       s.geometry
FROM streets s
JOIN carto_territory c ON c.id = s.commune_id
LEFT JOIN carto_territory a ON a.id = s.arrondissement_id
"""


def streets_replace(segments: Iterable[tuple[int, int, int, int, str, str]], *, tolerance: float) -> int:
    """Replace every street by those merged from `segments` (z, x, y, extent, name, GeoJSON in tile
    coordinates); returns how many streets. The caller holds the transaction and rebuilds the gazetteer."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS carto_street_segment")
        cursor.execute(_SEGMENTS_TABLE_SQL)
        with cursor.copy("COPY carto_street_segment (z, x, y, extent, name, geojson) FROM STDIN") as copy:
            for row in segments:
                copy.write_row(row)
        # The street rows' gazetteer names go with them; place_names_rebuild writes the new ones.
        cursor.execute("DELETE FROM carto_placename WHERE kind = 'street'")
        cursor.execute("DELETE FROM carto_street")
        cursor.execute(_STREETS_SQL, {"srid": STORAGE_SRID, "tolerance": tolerance})
        count = cursor.rowcount
        cursor.execute("DROP TABLE carto_street_segment")
        cursor.execute("ANALYZE carto_street")
        return count
