"""GET /api/places/?q= (find a place at any zoom) and GET /api/places/near/?lat=&lon= (what is near a point)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers.pin_input import PointQuery
from api.serializers.places import NearbySerializer, PlaceSearchSerializer
from carto.services.places import QUERY_MAX_LENGTH, QUERY_MIN_LENGTH, places_near, places_search


class PlaceSearchView(APIView):
    """Up to 10 communes, Paris arrondissements, QPV, stations and streets whose name matches `q`, best first."""

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

    @extend_schema(parameters=[PointQuery], responses={200: NearbySerializer})
    def get(self, request):
        # PointQuery names a missing lat or lon, and refuses swapped or out-of-range ones.
        location = PointQuery.validated(request.query_params, form=True)["location"]
        nearby = places_near(location=location)
        return Response(NearbySerializer(nearby).data)
