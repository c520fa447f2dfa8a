"""Statistics endpoints: per territory of a level, side by side comparison, stored hexagons (hexbins)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_bbox, parse_int, parse_pin_filter
from api.schema import FEATURE_COLLECTION, PIN_FILTER, PIN_FILTER_PARAMETERS
from carto.errors import InvalidInput
from carto.pin_filter import PinFilter
from carto.stats.comparisons import LEVEL_FIELDS, territories_compare, territory_stats
from carto.stats.grid import AGGREGATE_MAX_ZOOM
from carto.stats.heatmaps import hexbins
from carto.stats.series import territories_series


def period_json(filters: PinFilter) -> dict:
    return {
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
    }


class TerritoryStatsView(APIView):
    """Pins, supports, pins per 1,000 inhabitants, per theme and trend, for every territory of a level."""

    @extend_schema(
        responses={200: {"type": "object"}},
        parameters=[
            OpenApiParameter("level", str, enum=list(LEVEL_FIELDS), required=True),
            *PIN_FILTER_PARAMETERS,
        ],
    )
    def get(self, request):
        filters = parse_pin_filter(request.query_params)
        level = request.query_params.get("level", "")
        rows = territory_stats(level=level, filters=filters)
        return Response({"level": level, "period": period_json(filters), "territories": rows})


class CompareView(APIView):
    """The same statistics for a few territories (any levels), in the order given."""

    @extend_schema(
        responses={200: {"type": "object"}},
        parameters=[
            OpenApiParameter("territories", str, required=True, description="CODE,CODE,…"),
            OpenApiParameter(
                "series",
                str,
                enum=["month"],
                description="month: each territory's pins per month too (the period's months, at most 36)",
            ),
            *PIN_FILTER_PARAMETERS,
        ],
    )
    def get(self, request):
        filters = parse_pin_filter(request.query_params)
        codes = request.query_params.get("territories", "").split(",")
        series = request.query_params.get("series") or None
        if series not in (None, "month"):
            raise InvalidInput("invalid_series", "series must be month", fields={"series": [series[:40]]})
        rows = territories_compare(codes=codes, filters=filters)
        if series:  # a second statement, only when asked: the comparison itself stays one
            by_code = territories_series(codes=[row["code"] for row in rows], filters=filters)
            for row in rows:
                row["series"] = by_code[row["code"]]
        return Response({"period": period_json(filters), "territories": rows})


class HexbinView(APIView):
    """Visible pins per hexagon at a zoom, read from the stored hexagon aggregates (GeoJSON polygons)."""

    @extend_schema(
        responses={200: FEATURE_COLLECTION},
        parameters=[
            OpenApiParameter("zoom", int, required=True, description=f"0 to {AGGREGATE_MAX_ZOOM}"),
            OpenApiParameter(
                "bbox", str, description="minlon,minlat,maxlon,maxlat (WGS84); default: the Métropole"
            ),
            PIN_FILTER["theme"],
            PIN_FILTER["kind"],
            OpenApiParameter("since", str, description="rounded down to the first day of its month"),
        ],
    )
    def get(self, request):
        zoom = parse_int(
            request.query_params.get("zoom"),
            "zoom",
            default=None,
            maximum=AGGREGATE_MAX_ZOOM,
            code="invalid_zoom",
        )
        bbox = parse_bbox(request.query_params.get("bbox"))
        pin_filter = parse_pin_filter(request.query_params)
        body = hexbins(zoom=zoom, bbox=bbox.extent if bbox else None, pin_filter=pin_filter)
        # Numbers and geometry only, serialised by the database: no text to escape.
        return HttpResponse(body, content_type="application/json")
