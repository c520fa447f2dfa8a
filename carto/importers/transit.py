"""Import IDFM rail line traces and stations (CARTO_DATA_DIR/idfm_*.geojson, ODbL) for orientation and search.

Both upsert on IDFM's own keys (the line's short label, the stop area reference) and delete what the new
file no longer holds: nothing else points at these rows. Run after the territories: a station is marked
inside the Métropole by the placement rule (carto_place), which reads the Métropole's outline.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry, LineString, MultiLineString, Point
from django.db import connection, transaction

from carto.geo import API_SRID, STORAGE_SRID, in_idf, transform_between
from carto.importers.base import ImportFailed, ImportSummary, geojson_features
from carto.models import RailLine, Station
from carto.models.transit import Mode
from carto.sql.placement import PERIMETER_TOLERANCE_M

LINES_FILE = "idfm_rail_lines_mgp.geojson"
STATIONS_FILE = "idfm_stations_mgp.geojson"
# A line IDFM publishes no trace for (the "grandes lignes" at Paris-Bercy) is drawn in this grey.
NO_COLOUR = "#888888"
# Signage order of a station's lines: metro, RER, trains, trams, then the rest.
MODE_ORDER = [Mode.METRO, Mode.RER, Mode.TRAIN, Mode.TRAMWAY, Mode.VAL, Mode.TER, Mode.NAVETTE]
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")


@dataclass
class TransitSummary(ImportSummary):
    removed: int = 0

    def __str__(self) -> str:
        return f"{super().__str__()}, {self.removed} removed"


def line_label(line: str) -> str:
    """IDFM's line name as the short label of the signs: METRO 11 → M11, TRAM 3b → T3b, RER A, TRAIN H → Train H."""
    line = " ".join(line.split())
    kind, _, rest = line.partition(" ")
    if kind == "METRO" and rest:
        return f"M{rest}"
    if kind == "TRAM" and rest:
        return f"T{rest}"
    if kind == "RER" and rest:
        return f"RER {rest}"
    if kind == "TRAIN" and rest:
        return f"Train {rest}"
    if kind == "TER":
        return "TER"  # regional trains (TER Normandie, TER Grand-Est…) are one grey layer on the map
    if line == "GL":
        return "Grandes lignes"
    if line.startswith("FUNICULAIRE"):
        return "Funiculaire"
    if line == "ORLYVAL":
        return "Orlyval"
    return line


def label_order(mode: str, label: str) -> tuple:
    """Sort key of a station's lines: by mode, then naturally (M2 before M11, T3a before T3b)."""
    rank = MODE_ORDER.index(mode) if mode in MODE_ORDER else len(MODE_ORDER)
    parts = re.split(r"(\d+)", label)
    return (rank, [int(p) if p.isdigit() else p for p in parts])


def clean_name(name: str) -> str:
    """A station name without the zero-width characters and doubled spaces some IDFM records carry."""
    return " ".join(_INVISIBLE.sub("", name or "").split())


def _check_in_idf(geometry: GEOSGeometry, *, path: Path, row: int) -> None:
    min_x, min_y, max_x, max_y = geometry.extent
    if not (in_idf(min_x, min_y) and in_idf(max_x, max_y)):
        raise ImportFailed(path, "coordinates outside Île-de-France (expected WGS84 lon/lat)", row=row)


def _to_storage(geometry: GEOSGeometry) -> GEOSGeometry:
    return geometry.transform(transform_between(API_SRID, STORAGE_SRID), clone=True)


def _merged(segments: list[LineString]) -> MultiLineString:
    """The segments of one line as one MultiLineString: duplicates dissolved, touching pieces joined."""
    merged = MultiLineString(*segments, srid=STORAGE_SRID).unary_union.merged
    if isinstance(merged, LineString):
        merged = MultiLineString(merged, srid=STORAGE_SRID)
    return merged


def _upsert(model, summary: ImportSummary, key: dict, values: dict, geometry_field: str):
    row = model.objects.filter(**key).first()
    if row is None:
        summary.count(created=True)
        return model.objects.create(**key, **values)
    changed = []
    for name, value in values.items():
        current = getattr(row, name)
        same = current.equals_exact(value, 0.01) if name == geometry_field else current == value
        if not same:
            setattr(row, name, value)
            changed.append(name)
    if changed:
        row.save(update_fields=changed)
    summary.count(created=False, changed=bool(changed))
    return row


def _delete(stale) -> int:
    """Delete the rows a new file no longer holds; returns how many (not counting their place names)."""
    return stale.delete()[1].get(stale.model._meta.label, 0)


@transaction.atomic
def rail_lines_import(*, data_dir: Path) -> TransitSummary:
    """Upsert one RailLine per short label from the IDFM traces (one transaction)."""
    summary = TransitSummary("rail lines")
    path = data_dir / LINES_FILE
    segments: dict[str, list[LineString]] = defaultdict(list)
    seen: dict[str, set[bytes]] = defaultdict(set)
    modes: dict[str, Counter] = defaultdict(Counter)
    colours: dict[str, Counter] = defaultdict(Counter)
    refs: dict[str, Counter] = defaultdict(Counter)
    for row, props, geometry in geojson_features(path):
        if not isinstance(geometry, LineString | MultiLineString):
            raise ImportFailed(path, f"expected a line, got {geometry.geom_type}", row=row)
        line, mode, colour = (
            props.get("line") or "",
            props.get("mode") or "",
            (props.get("colour") or "").lower(),
        )
        if not line or mode not in Mode.values:
            raise ImportFailed(path, f"unknown line or mode ({line!r}, {mode!r})", row=row)
        if not re.fullmatch(r"#[0-9a-f]{6}", colour):
            raise ImportFailed(path, f"colour must be #rrggbb, got {colour!r}", row=row)
        _check_in_idf(geometry, path=path, row=row)
        label = line_label(line)
        # IDFM repeats a segment once per line sharing the track, and sometimes twice for one line.
        if geometry.wkb.tobytes() in seen[label]:
            continue
        seen[label].add(geometry.wkb.tobytes())
        stored = _to_storage(geometry)
        segments[label].extend(stored if isinstance(stored, MultiLineString) else [stored])
        modes[label][mode] += 1
        colours[label][colour] += 1
        refs[label][props.get("line_ref") or ""] += 1
    if not segments:
        raise ImportFailed(path, "no line trace in this file; nothing changed")
    for label in sorted(segments):
        # A line's few stray segments may carry another line's colour or reference: the majority wins.
        _upsert(
            RailLine,
            summary,
            {"label": label},
            {
                "mode": modes[label].most_common(1)[0][0],
                "colour": colours[label].most_common(1)[0][0],
                "line_ref": refs[label].most_common(1)[0][0],
                "geometry": _merged(segments[label]),
            },
            "geometry",
        )
    summary.removed = _delete(RailLine.objects.exclude(label__in=segments))
    return summary


# Inside the Métropole, by the one placement rule: the search offers only stations where a pin can go.
_IN_METROPOLE_SQL = """
WITH placed AS (
  SELECT s.id, pl.inside FROM carto_station s CROSS JOIN LATERAL carto_place(s.location, %(tolerance)s) pl
)
UPDATE carto_station s SET in_metropole = placed.inside
FROM placed
WHERE s.id = placed.id AND s.in_metropole IS DISTINCT FROM placed.inside
"""


@transaction.atomic
def stations_import(*, data_dir: Path) -> TransitSummary:
    """Upsert one Station per IDFM stop area, its lines coloured from the RailLine traces (one transaction)."""
    summary = TransitSummary("stations")
    path = data_dir / STATIONS_FILE
    colour_of = dict(RailLine.objects.values_list("label", "colour"))
    areas: dict[str, list[tuple[dict, Point]]] = defaultdict(list)
    for row, props, geometry in geojson_features(path):
        if not isinstance(geometry, Point):
            raise ImportFailed(path, f"expected a point, got {geometry.geom_type}", row=row)
        code, mode = str(props.get("stop_area_ref") or ""), props.get("mode") or ""
        if not code or not clean_name(props.get("name")) or not props.get("line") or mode not in Mode.values:
            raise ImportFailed(path, "a station needs stop_area_ref, name, line and a known mode", row=row)
        _check_in_idf(geometry, path=path, row=row)
        areas[code].append((props, _to_storage(geometry)))
    if not areas:
        raise ImportFailed(path, "no station in this file; nothing changed")
    for code in sorted(areas, key=lambda c: (len(c), c)):
        records = areas[code]
        # A stop area's platforms may bear several names (Gare de l'Est, Château-Landon): the most common
        # one names it, in file order on a tie; the others and IDFM's zone names stay searchable.
        names = Counter(clean_name(p["name"]) for p, _ in records)
        name = names.most_common(1)[0][0]
        others = [*names, *(clean_name(p.get("stop_area")) for p, _ in records)]
        aliases = sorted({n for n in others if n and n != name})
        lines = sorted(
            {(p["mode"], line_label(p["line"])) for p, _ in records}, key=lambda m: label_order(*m)
        )
        x = sum(point.x for _, point in records) / len(records)
        y = sum(point.y for _, point in records) / len(records)
        _upsert(
            Station,
            summary,
            {"code": code},
            {
                "name": name,
                "aliases": aliases,
                "lines": [label for _, label in lines],
                "line_colours": [colour_of.get(label, NO_COLOUR) for _, label in lines],
                "modes": [mode for mode, _ in lines],
                "location": Point(round(x, 1), round(y, 1), srid=STORAGE_SRID),
            },
            "location",
        )
    summary.removed = _delete(Station.objects.exclude(code__in=areas))
    with connection.cursor() as cursor:
        cursor.execute(_IN_METROPOLE_SQL, {"tolerance": PERIMETER_TOLERANCE_M})
    return summary
