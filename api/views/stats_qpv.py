"""GET /api/stats/qpv/{code}/: a QPV against the rest of its commune, per 1,000 inhabitants."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_pin_filter
from api.schema import PIN_FILTER_PARAMETERS
from api.views.stats import period_json
from carto.stats.qpv import qpv_versus_commune


class QpvVersusCommuneView(APIView):
    """The QPV's pins per 1,000 of its inhabitants beside its commune's pins outside it per 1,000 of the
    commune's other inhabitants (unknown QPV code: 404)."""

    @extend_schema(responses={200: {"type": "object"}}, parameters=PIN_FILTER_PARAMETERS)
    def get(self, request, code: str):
        filters = parse_pin_filter(request.query_params)
        body = qpv_versus_commune(code=code, filters=filters)
        return Response({"period": period_json(filters), **body})
