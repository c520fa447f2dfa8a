"""The Web Mercator grid shared by low-zoom tiles, clusters and hexbins, and the map-data version."""

from __future__ import annotations

import math

from carto.pin_filter import filter_sql

# Half the width of the Web Mercator world, in metres (EPSG:3857 bounds).
WORLD_HALF = 20037508.342789244
# A tile at zoom z is split into CELLS_PER_TILE × CELLS_PER_TILE cells (16 px cells on a 256 px tile):
# small enough for a smooth heatmap, few enough that a whole-Métropole z8 tile stays a few KB.
CELL_BITS = 4
CELLS_PER_TILE = 2**CELL_BITS
# Tiles up to this zoom are drawn from the stored cells; above it, from the pins themselves.
AGGREGATE_MAX_ZOOM = 12
# Cells and hexagons are stored from this zoom up (5 zooms: 10 upserts per pin insert instead of 26 for
# zooms 0–12). A z8 tile spans ~157 km, the whole Métropole: coarser tiles and clusters regroup z8 cells
# (a few hundred rows for the Métropole), coarser hexbins are served at z8.
AGGREGATE_MIN_ZOOM = 8
# The totals (carto_pin_cell_total, no filters) are also kept at this finer zoom (cells ~100 m wide in
# Paris), only for the rim of a map-groups box: the border pins counted one by one there lie within ~100 m
# of its edge instead of ~400 m (4x fewer at z12, bench/map_clusters.py), for one more upsert per pin.
TOTALS_RIM_ZOOM = 14
MAX_ZOOM = 22
# Map groups are four times wider than heatmap cells: 64 px on a 256 px tile (supercluster's default
# radius of 40 px on 512 px tiles, about the same on screen). Read by both map-group paths (SQL, memory).
GROUP_BITS = 2
_EARTH_RADIUS = 6378137.0
# The Métropole du Grand Paris with a margin (WGS84): the default extent of whole-Métropole statistics.
METROPOLE_BBOX = (2.05, 48.65, 2.75, 49.05)


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator (EPSG:3857) coordinates of a WGS84 point, in metres."""
    return (
        _EARTH_RADIUS * math.radians(lon),
        _EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)),
    )


# Web Mercator's latitude limit: the world is a square there (EPSG:3857 bounds).
MERCATOR_MAX_LATITUDE = 85.0511287798066


def mercator_box(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The Web Mercator rectangle (x0, y0, x1, y1) of a WGS84 box (minlon, minlat, maxlon, maxlat).

    The map groups' box rule, on a map screen's terms: a pin is in the box when the Web Mercator x/y of its
    public location (as PostGIS computes them) lie in this rectangle, bounds included; lon/lat inside the
    WGS84 box is the same rule, Web Mercator being monotonic in both.
    """
    (x0, y0), (x1, y1) = (
        mercator(lon, max(-MERCATOR_MAX_LATITUDE, min(lat, MERCATOR_MAX_LATITUDE)))
        for lon, lat in ((bbox[0], bbox[1]), (bbox[2], bbox[3]))
    )
    return x0, y0, x1, y1


def cell_size(zoom: int) -> float:
    """Width of a grid cell at `zoom`, in Web Mercator metres."""
    return 2 * WORLD_HALF / 2 ** (zoom + CELL_BITS)


# A hexagon of PostGIS's hex grid (ST_Hexagon: flat-topped, `size` = side = circumradius) with the area of
# a square cell: as many hexagons as cells on a tile, so the hexbins have the heatmap grid's resolution.
HEX_PER_CELL = math.sqrt(2 / (3 * math.sqrt(3)))


def hex_size(zoom: int) -> float:
    """Side of a hexagon of the hexbin grid at `zoom`, in Web Mercator metres."""
    return cell_size(zoom) * HEX_PER_CELL


def hex_range(
    bbox: tuple[float, float, float, float], size: float
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Column and row ranges of the hexagons (side `size`) meeting a WGS84 box, with one hexagon to spare."""
    (x0, y0), (x1, y1) = mercator(bbox[0], bbox[1]), mercator(bbox[2], bbox[3])
    width, height = 1.5 * size, math.sqrt(3) * size  # column spacing, row spacing
    return (
        (math.floor(x0 / width) - 1, math.ceil(x1 / width) + 1),
        (math.floor(y0 / height) - 1, math.ceil(y1 / height) + 1),
    )


def cell_of(x: float, y: float, zoom: int) -> tuple[int, int]:
    """Column and row (from the north-west corner, as tile x/y) of a Web Mercator point at `zoom`."""
    size = cell_size(zoom)
    return math.floor((x + WORLD_HALF) / size), math.floor((WORLD_HALF - y) / size)


# The pin filter on the stored cells (alias c): theme, kind, month (PinFilter.sql_params()).
CELL_FILTERS = "\n    AND " + filter_sql("c", stored=True)


def cells_sql(template: str, *, filtered: bool) -> str:
    """`template` reading the stored cells ({table}, {filters}), with or without theme/kind/month filters."""
    table, filters = ("carto_pin_cell", CELL_FILTERS) if filtered else ("carto_pin_cell_total", "")
    return template.replace("{table}", table).replace("{filters}", filters)
