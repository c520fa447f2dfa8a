"""GET /api/places/?q= (find a place at any zoom) and GET /api/places/near/?lat=&lon= (what is near a point)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.pins import parse_location
from api.serializers.places import NearbySerializer, PlaceSearchSerializer
from carto.services.places import QUERY_MAX_LENGTH, QUERY_MIN_LENGTH, places_near, places_search


class PlaceSearchView(APIView):
    """Up to 10 communes, Paris arrondissements, QPV and stations whose name matches `q`, best first."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "minLength": QUERY_MIN_LENGTH, "maxLength": QUERY_MAX_LENGTH},
                required=True,
            )
        ],
        responses={200: PlaceSearchSerializer},
    )
    def get(self, request):
        places = places_search(text=request.query_params.get("q", ""))
        return Response(PlaceSearchSerializer({"results": places}).data)


class PlaceNearView(APIView):
    """The nearest station within 1 km of a point, with its lines, and the commune, arrondissement and QPV."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", {"type": "number", "minimum": -90, "maximum": 90}, required=True),
            OpenApiParameter("lon", {"type": "number", "minimum": -180, "maximum": 180}, required=True),
        ],
        responses={200: NearbySerializer},
    )
    def get(self, request):
        # parse_location names a missing lat or lon itself, and refuses swapped or out-of-range ones.
        present = {
            name: request.query_params[name] for name in ("lat", "lon") if name in request.query_params
        }
        nearby = places_near(location=parse_location(present, from_text=True))
        return Response(NearbySerializer(nearby).data)
