from __future__ import annotations

from django.contrib.gis.db.models.functions import Transform
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.caching import PublicCacheMixin
from api.schema import FEATURE_COLLECTION
from api.serializers.territories import TerritoryFeatureSerializer
from carto.errors import InvalidInput
from carto.geo import API_SRID
from carto.models import Territory


def territories_with_wgs84():
    return (
        Territory.objects.select_related("parent")
        .prefetch_related("communes")
        .annotate(geometry_wgs84=Transform("geometry", API_SRID))
        .order_by("kind", "code")
    )


class TerritoryListView(PublicCacheMixin, APIView):
    """Territories of one level as a GeoJSON FeatureCollection (WGS84)."""

    @extend_schema(
        operation_id="territories_list",
        parameters=[OpenApiParameter("kind", str, enum=Territory.Kind.values, required=True)],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request):
        kind = request.query_params.get("kind")
        if kind not in Territory.Kind.values:
            raise InvalidInput(
                "invalid_kind",
                f"kind must be one of {', '.join(Territory.Kind.values)}",
                fields={"kind": [str(kind)]},
            )
        queryset = territories_with_wgs84().filter(kind=kind)
        return Response(TerritoryFeatureSerializer(queryset, many=True).data)


class TerritoryDetailView(PublicCacheMixin, APIView):
    """One territory by its official code (INSEE, T1…T12, QN…, or the Métropole's SIREN)."""

    @extend_schema(responses={200: {"type": "object", "required": ["type", "geometry", "properties"], "properties": {"type": {"type": "string", "enum": ["Feature"]}, "geometry": {"type": "object", "nullable": True}, "properties": {"type": "object"}}}})  # fmt: skip
    def get(self, request, code: str):
        territory = get_object_or_404(territories_with_wgs84(), code=code)
        data = TerritoryFeatureSerializer(territory).data
        children = territory.children.order_by("code").values_list("code", flat=True)
        data["properties"]["children"] = list(children)
        return Response(data)
