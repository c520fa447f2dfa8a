"""GET /api/stats/needs/{code}/: the state of needs of a territory (top needs and themes, trend, coverage)."""

from __future__ import annotations

from django.utils.timezone import localtime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_int, parse_pin_filter
from api.schema import PIN_FILTER_PARAMETERS
from api.serializers.clusters import response_public
from carto.stats.needs import DEFAULT_DAYS, TOP_NEEDS, territory_needs

MAX_NEEDS = 20


class NeedsView(APIView):
    """Top needs (clusters) and themes of a territory over the period, with their trend and supports, and how
    many are covered by a Grand Paris response (unknown code: 404)."""

    @extend_schema(
        responses={200: {"type": "object"}},
        parameters=[
            *PIN_FILTER_PARAMETERS,
            OpenApiParameter(
                "limit", int, description=f"needs listed, 1 to {MAX_NEEDS} (default {TOP_NEEDS})"
            ),
        ],
        description=f"Without `since`, the period is the last {DEFAULT_DAYS} days.",
    )
    def get(self, request, code: str):
        filters = parse_pin_filter(request.query_params)
        limit = parse_int(
            request.query_params.get("limit"), "limit", default=TOP_NEEDS, minimum=1, maximum=MAX_NEEDS
        )
        board = territory_needs(code=code, filters=filters, limit=limit)
        territory = board.territory
        return Response(
            {
                "territory": {
                    "code": territory.code,
                    "name": territory.name,
                    "kind": territory.kind,
                    "population": territory.population,
                },
                "period": {
                    "since": localtime(board.since).isoformat(),
                    "until": localtime(board.until).isoformat() if board.until else None,
                },
                **board.totals,
                "themes": board.themes,
                "needs": [
                    {**need.figures, "responses": [response_public(r) for r in need.responses]}
                    for need in board.needs
                ],
                "coverage": board.coverage,
            }
        )
