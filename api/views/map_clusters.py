"""GET /api/pins/clusters/?bbox=&zoom=: grid clusters of the visible pins, with exact counts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_bbox_extent, parse_int, parse_pin_filter
from api.schema import PIN_FILTER_PARAMETERS
from carto.errors import InvalidInput
from carto.stats.grid import MAX_ZOOM
from carto.stats.map_groups import map_groups_in_box
from carto.stats.map_index_holder import map_index_for


def parse_zoom(value: str | None) -> int:
    """An integer zoom between 0 and 22."""
    return parse_int(value, "zoom", default=None, maximum=MAX_ZOOM, code="invalid_zoom")


class PinClusterView(APIView):
    """Visible pins of the box grouped per grid cell; the counts sum exactly to the pins in the box."""

    @extend_schema(
        responses={200: {"type": "object"}},
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            OpenApiParameter("zoom", int, required=True),
            *PIN_FILTER_PARAMETERS,
            OpenApiParameter(
                "X-Map-Groups",
                str,
                location=OpenApiParameter.HEADER,
                response=True,
                enum=["memory", "sql"],
                description="which path answered: the worker's in-memory index or SQL (same groups)",
            ),
        ],
    )
    def get(self, request):
        bbox = parse_bbox_extent(request.query_params.get("bbox"))
        if bbox is None:
            raise InvalidInput("invalid_bbox", "bbox is required", fields={"bbox": ["required"]})
        zoom = parse_zoom(request.query_params.get("zoom"))
        pin_filter = parse_pin_filter(request.query_params)
        index = map_index_for(pin_filter)
        clusters = map_groups_in_box(bbox=bbox, zoom=zoom, pin_filter=pin_filter, index=index)
        response = Response({"clusters": clusters, "total": sum(c["count"] for c in clusters)})
        response["X-Map-Groups"] = "memory" if index is not None else "sql"  # which path answered (bench)
        return response
