"""Streamed exports of the visible pins: GET /api/exports/pins.csv and /api/exports/pins.geojson.

Public fields and the public (blurred) location in WGS84 only. Rows come from a server-side cursor
(`.iterator(chunk_size=2000)`) into a StreamingHttpResponse, so a million pins never sit in memory.
"""

from __future__ import annotations

import csv
import json

from django.db.models import F, FloatField, Func
from django.http import StreamingHttpResponse

from api.errors import allowed_methods
from api.params import parse_bbox, parse_pin_filter
from api.tiles import json_errors
from carto.exports.cells import safe_cell
from carto.geo import API_SRID
from carto.models import Pin

CHUNK = 2000
COLUMNS = [
    "id",
    "kind",
    "theme",
    "text",
    "language",
    "status",
    "support_count",
    "created_at",
    "commune",
    "ept",
    "arrondissement",
    "qpv",
    "lon",
    "lat",
]


class _Coordinate(Func):
    """ST_X / ST_Y of the public location transformed to WGS84."""

    output_field = FloatField()

    def __init__(self, function: str):
        super().__init__(Func(F("public_location"), API_SRID, function="ST_Transform"), function=function)


def _rows(request):
    pins = parse_pin_filter(request.GET).apply(Pin.objects.visible())
    bbox = parse_bbox(request.GET.get("bbox"))
    if bbox is not None:
        pins = pins.filter(public_location__intersects=bbox)
    return (
        pins.annotate(lon=_Coordinate("ST_X"), lat=_Coordinate("ST_Y"))
        .values_list(
            "id",
            "kind",
            "theme__slug",
            "text",
            "language",
            "status",
            "support_count",
            "created_at",
            "commune__code",
            "ept__code",
            "arrondissement__code",
            "qpv__code",
            "lon",
            "lat",
        )
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_stream(rows):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # UTF-8 BOM: spreadsheet programs then read accents right
    yield writer.writerow(COLUMNS)
    for row in rows:
        *fields, lon, lat = row
        cells = [safe_cell(v.isoformat() if hasattr(v, "isoformat") else v) for v in fields]
        yield writer.writerow([*cells, f"{lon:.6f}", f"{lat:.6f}"])


def _geojson_stream(rows):
    yield '{"type":"FeatureCollection","features":['
    first = True
    for row in rows:
        *fields, lon, lat = row
        properties = dict(zip(COLUMNS[:-2], fields, strict=True))
        properties["created_at"] = properties["created_at"].isoformat()
        feature = {
            "type": "Feature",
            "id": properties["id"],
            "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": properties,
        }
        yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
        first = False
    yield "]}"


@allowed_methods("GET")
@json_errors
def pins_csv(request):
    """Visible pins as CSV (UTF-8 with BOM, formula-safe), same filters as the tiles, plus bbox."""
    rows = _rows(request)  # filters are parsed here, before streaming starts, so bad input is a 400
    response = StreamingHttpResponse(_csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="carto-pins.csv"'
    return response


@allowed_methods("GET")
@json_errors
def pins_geojson(request):
    """Visible pins as a GeoJSON FeatureCollection (WGS84), streamed."""
    rows = _rows(request)
    response = StreamingHttpResponse(_geojson_stream(rows), content_type="application/geo+json")
    response["Content-Disposition"] = 'attachment; filename="carto-pins.geojson"'
    return response
