"""Import the streets of the operator's OpenStreetMap basemap (CARTO_BASEMAP_PMTILES, ODbL) for the places search.

There is no address file offline; the basemap `make basemap` builds (OpenMapTiles schema, tilemaker) names
every street in the `transportation_name` layer of its most detailed tiles (z14). Those tiles are read with
the `pmtiles` reader and decoded with `mapbox-vector-tile`; PostGIS does the geometry (carto.sql.streets).
A re-run replaces every street: they are derived data, nothing else points at them but the gazetteer.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mapbox_vector_tile
from django.db import transaction
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from carto.importers.base import ImportFailed, ImportSummary, require_file
from carto.sql.placement import PERIMETER_TOLERANCE_M
from carto.sql.streets import streets_replace

LAYER = "transportation_name"
# Named lines of that layer that are no street a resident stands in (OpenMapTiles' `class`).
NOT_STREETS = frozenset({"rail", "transit", "ferry", "aerialway"})


@dataclass
class StreetsSummary(ImportSummary):
    tiles: int = 0
    segments: int = 0

    def __str__(self) -> str:
        return f"{self.name}: {self.created} from {self.segments} segments in {self.tiles} tiles"


def street_name(properties: dict) -> str:
    """A segment's name: OpenMapTiles' `name`, or `name:latin` alone as Debian's tilemaker 2.2 writes it."""
    return " ".join(str(properties.get("name") or properties.get("name:latin") or "").split())


def _layer_only(data: bytes) -> bytes:
    """The tile with only the street names' layer: decoding the buildings of a Paris tile in Python would
    cost most of the import's time, and protobuf parses the rest in C."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(data)
    kept = [layer for layer in tile.layers if layer.name == LAYER]
    del tile.layers[:]
    tile.layers.extend(kept)
    return tile.SerializeToString()


def basemap_segments(path: Path, summary: StreetsSummary) -> Iterator[tuple[int, int, int, int, str, str]]:
    """(z, x, y, extent, name, GeoJSON in tile coordinates) for each named street line of the deepest tiles."""
    with open(require_file(path), "rb") as file:
        get_bytes = MmapSource(file)
        try:
            header = Reader(get_bytes).header()
        except Exception as exc:  # noqa: BLE001 (any unreadable header is the same answer)
            raise ImportFailed(path, f"not a PMTiles file ({exc})") from exc
        if header["tile_type"] != TileType.MVT:
            raise ImportFailed(path, "not a vector basemap (expected MVT tiles)")
        if header["tile_compression"] not in (Compression.GZIP, Compression.NONE):
            raise ImportFailed(path, f"tile compression {header['tile_compression'].name} is not read")
        deepest = header["max_zoom"]
        for (z, x, y), data in all_tiles(get_bytes):
            if z != deepest:
                continue
            summary.tiles += 1
            if header["tile_compression"] == Compression.GZIP:
                data = gzip.decompress(data)
            layers = mapbox_vector_tile.decode(_layer_only(data), default_options={"y_coord_down": True})
            layer = layers.get(LAYER)
            if layer is None:
                continue
            for feature in layer["features"]:
                name = street_name(feature["properties"])
                geometry = feature["geometry"]
                if not name or feature["properties"].get("class") in NOT_STREETS:
                    continue
                if geometry["type"] not in ("LineString", "MultiLineString"):
                    continue
                summary.segments += 1
                yield z, x, y, layer["extent"], name, json.dumps(geometry)


@transaction.atomic
def streets_import(*, path: Path) -> StreetsSummary:
    """Replace the streets by those of the basemap at `path` (one transaction); rebuild the gazetteer after."""
    summary = StreetsSummary("streets")
    summary.created = streets_replace(basemap_segments(path, summary), tolerance=PERIMETER_TOLERANCE_M)
    if not summary.segments:
        raise ImportFailed(path, f"no named street in the {LAYER} layer; nothing changed")
    return summary
