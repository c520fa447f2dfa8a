"""GET /api/stats/qpv/{code}/: a QPV against the rest of its commune, per 1,000 inhabitants."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views.stats import FILTER_PARAMETERS, period_json, stats_filters
from carto.stats.qpv import qpv_versus_commune


class QpvVersusCommuneView(APIView):
    """The QPV's pins per 1,000 of its inhabitants beside its commune's pins outside it per 1,000 of the
    commune's other inhabitants (unknown QPV code: 404)."""

    @extend_schema(responses={200: {"type": "object"}}, parameters=FILTER_PARAMETERS)
    def get(self, request, code: str):
        filters = stats_filters(request.query_params)
        body = qpv_versus_commune(code=code, filters=filters)
        return Response({"period": period_json(filters), **body})
