"""What every importer shares: a summary, a clear failure naming the file and row, GeoJSON reading."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

from carto.geo import API_SRID, STORAGE_SRID, in_idf, transform_between

Progress = Callable[[int, int], None]


class ImportFailed(Exception):
    """An input file is missing or wrong; the import was rolled back."""

    def __init__(self, path: Path | str, message: str, *, row: int | None = None):
        where = f"{path}" if row is None else f"{path}, row {row}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.row = row


@dataclass
class ImportSummary:
    name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)

    def count(self, created: bool, changed: bool = True) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def __str__(self) -> str:
        text = f"{self.name}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            reasons = "; ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f", {sum(self.skipped.values())} skipped ({reasons})"
        return text


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise ImportFailed(path, "file not found (set CARTO_DATA_DIR to the folder holding the shared data)")
    return path


def read_json(path: Path):
    """The parsed content of a JSON fixture; a missing or malformed file is an ImportFailed naming it."""
    try:
        return json.loads(require_file(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ImportFailed(path, f"malformed JSON ({exc})") from exc


def geojson_features(path: Path) -> Iterator[tuple[int, dict, GEOSGeometry]]:
    """Yield (row number, properties, geometry in Lambert-93) for each feature of a WGS84 GeoJSON file."""
    require_file(path)
    try:
        layer = DataSource(str(path))[0]
    except (GDALException, IndexError) as exc:
        raise ImportFailed(path, f"not a readable GeoJSON file ({exc})") from exc
    for row, feature in enumerate(layer, start=1):
        properties = {name: feature.get(name) for name in feature.fields}
        ogr: OGRGeometry | None = feature.geom
        if ogr is None:
            raise ImportFailed(path, "feature without geometry", row=row)
        geometry = GEOSGeometry(ogr.wkb, srid=API_SRID)
        yield row, properties, geometry


def as_storage_multipolygon(
    geometry: GEOSGeometry, *, path: Path, row: int, repair: bool = True
) -> MultiPolygon:
    """Check a WGS84 polygon lies in Île-de-France, then return it as a Lambert-93 multipolygon (an
    invalid one repaired by buffer(0), or refused when `repair` is False)."""
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise ImportFailed(path, f"expected a (multi)polygon, got {geometry.geom_type}", row=row)
    min_x, min_y, max_x, max_y = geometry.extent
    if not (in_idf(min_x, min_y) and in_idf(max_x, max_y)):
        raise ImportFailed(path, "coordinates outside Île-de-France (expected WGS84 lon/lat)", row=row)
    if not geometry.valid:
        if not repair:
            raise ImportFailed(path, f"invalid geometry: {geometry.valid_reason}", row=row)
        geometry = geometry.buffer(0)
    geometry = geometry.transform(transform_between(API_SRID, STORAGE_SRID), clone=True)
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon(geometry, srid=STORAGE_SRID)
    return geometry
