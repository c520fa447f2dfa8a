from __future__ import annotations

import io

from django.contrib.gis.db.models.functions import Transform
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_bbox
from api.schema import FEATURE_COLLECTION
from api.serializers.actors import ActorFeatureSerializer, place_feature
from carto.actor_places import places_of
from carto.exports.actors import actors_write_csv
from carto.geo import API_SRID
from carto.models import Actor

MAX_ACTORS = 2000


class ActorListView(APIView):
    """Local actors as GeoJSON; with `bbox`, only the located ones inside it."""

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            OpenApiParameter("service", str, description="a service of the national schema"),
            OpenApiParameter("mgp", bool, description="only actors in the Métropole"),
        ],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request):
        actors = Actor.objects.select_related("commune", "arrondissement").annotate(
            location_wgs84=Transform("location", API_SRID)
        )
        bbox = parse_bbox(request.query_params.get("bbox"))
        if bbox is not None:
            actors = actors.filter(location__intersects=bbox)
        if service := request.query_params.get("service"):
            actors = actors.offering([service])
        if request.query_params.get("mgp") in ("1", "true"):
            actors = actors.filter(in_mgp=True)
        actors = list(actors.order_by("name", "id")[:MAX_ACTORS])
        # One feature per place, as the card lists them (carto.actor_places): a place imported twice is one
        # mark on the map, its name in normal case. Records without a point stay as they are, one each.
        located = [a for a in actors if a.location is not None]
        features = [place_feature(place) for place in places_of(located)]
        features += ActorFeatureSerializer([a for a in actors if a.location is None], many=True).data[
            "features"
        ]
        features.sort(key=lambda f: (f["properties"]["name"].casefold(), f["properties"]["id"]))
        return Response({"type": "FeatureCollection", "features": features})


class ActorExportView(APIView):
    """Actors as a CSV that validates against the national schema v1.0.2."""

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request):
        buffer = io.StringIO()
        actors_write_csv(Actor.objects.order_by("source_id"), buffer)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="lieux-mediation-numerique.csv"'
        return response
