"""GET /api/stats/qpv/{code}/needs/: a quartier on the resident's map (its figures, top needs and their spread)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_int
from carto.stats.quartier import TOP_NEEDS, quartier_needs

MAX_NEEDS = 10
# A count, or "<5" when it is small (carto.stats.comparisons.suppress_small).
_COUNT = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": ["<5"]}]}
_PLACE = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
    "required": ["code", "name"],
}
QUARTIER_SCHEMA = {
    "type": "object",
    "properties": {
        "qpv": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "population": {"type": "integer", "nullable": True},
                "communes": {"type": "array", "items": _PLACE},
                "arrondissements": {"type": "array", "items": _PLACE},
            },
            "required": ["code", "name", "population", "communes", "arrondissements"],
        },
        "pins": _COUNT,
        "supports": _COUNT,
        "needs": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "label": {"type": "string"},
                    "theme": {"type": "string"},
                    "pins": _COUNT,
                    "supports": _COUNT,
                    "elsewhere": {
                        "type": "object",
                        "properties": {
                            "qpv": {"type": "integer", "minimum": 0},
                            "communes": {"type": "integer", "minimum": 0},
                        },
                        "required": ["qpv", "communes"],
                    },
                },
                "required": ["id", "label", "theme", "pins", "supports", "elsewhere"],
            },
        },
    },
    "required": ["qpv", "pins", "supports", "needs"],
}


class QuartierNeedsView(APIView):
    """A QPV's visible pins and "moi aussi", and its top needs (clusters) with how many other QPV and other
    communes voice the same need (unknown QPV code: 404)."""

    @extend_schema(
        responses={200: QUARTIER_SCHEMA},
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_NEEDS},
                description=f"needs listed (default {TOP_NEEDS})",
            )
        ],
        description='Counts below 5 are given as "<5"; every visible pin counts, whatever its age.',
    )
    def get(self, request, code: str):
        limit = parse_int(
            request.query_params.get("limit"), "limit", default=TOP_NEEDS, minimum=1, maximum=MAX_NEEDS
        )
        quartier = quartier_needs(code=code, limit=limit)
        qpv = quartier.qpv
        return Response(
            {
                "qpv": {
                    "code": qpv.code,
                    "name": qpv.name,
                    "population": qpv.population,
                    "communes": [{"code": c.code, "name": c.name} for c in quartier.communes],
                    # Paris QPV only (the communes then say "Paris"): those the quartier lies in.
                    "arrondissements": [{"code": a.code, "name": a.name} for a in quartier.arrondissements],
                },
                "pins": quartier.pins,
                "supports": quartier.supports,
                "needs": quartier.needs,
            }
        )
