"""Coverage for officials: widespread needs with no Grand Paris response, and what each response covers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response as APIResponse
from rest_framework.views import APIView

from api.params import parse_int
from api.serializers.clusters import cluster_summary, response_public
from carto.services.linking import coverage, gap_points

DEFAULT_MIN_TERRITORIES = 2
# Enough points to show where 200 gaps are; the table (/api/coverage/) lists them all.
GAP_POINTS_MAX = 5000
COORDINATE_DECIMALS = 5
MIN_TERRITORIES = OpenApiParameter("min_territories", int, description="default 2")


class CoverageView(APIView):
    """{"gaps": clusters spanning ≥ min_territories communes with no linked response, "responses": …}."""

    @extend_schema(
        parameters=[MIN_TERRITORIES],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        minimum = parse_int(
            request.query_params.get("min_territories"), "min_territories", default=DEFAULT_MIN_TERRITORIES
        )
        result = coverage(min_territories=minimum)
        return APIResponse(
            {
                "min_territories": minimum,
                "gaps": [cluster_summary(c) for c in result.gaps],
                "responses": [
                    {
                        "response": response_public(response),
                        "clusters": [
                            {"id": c.pk, "label": c.label, "territory_count": c.territory_count}
                            for c in clusters
                        ],
                    }
                    for response, clusters in result.responses
                ],
            }
        )


class CoverageGapsView(APIView):
    """Where the uncovered needs are, for the /coverage/ map (a cluster summary has no geometry): a GeoJSON
    point per visible pin of each gap, at its public (blurred) location, with public fields only."""

    @extend_schema(parameters=[MIN_TERRITORIES], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        minimum = parse_int(
            request.query_params.get("min_territories"), "min_territories", default=DEFAULT_MIN_TERRITORIES
        )
        gaps = {c.pk: c for c in coverage(min_territories=minimum).gaps}
        features = [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(lon, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)],
                },
                "properties": {
                    "pin": pin_id,
                    "cluster": cluster_id,
                    "label": gaps[cluster_id].label,
                    "territory_count": gaps[cluster_id].territory_count,
                },
            }  # fmt: skip
            for pin_id, cluster_id, lon, lat in gap_points(list(gaps), limit=GAP_POINTS_MAX)
        ]
        return APIResponse({"type": "FeatureCollection", "min_territories": minimum, "features": features})
