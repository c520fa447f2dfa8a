"""Coverage for officials: widespread needs with no Grand Paris response, and what each response covers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response as APIResponse
from rest_framework.views import APIView

from api.params import parse_int
from api.serializers.clusters import cluster_summary, response_public
from carto.services.linking import coverage

DEFAULT_MIN_TERRITORIES = 2


class CoverageView(APIView):
    """{"gaps": clusters spanning ≥ min_territories communes with no linked response, "responses": …}."""

    @extend_schema(
        parameters=[OpenApiParameter("min_territories", int, description="default 2")],
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
