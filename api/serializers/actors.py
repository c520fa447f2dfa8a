from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from carto.models import Actor


class ActorFeatureSerializer(GeoFeatureModelSerializer):
    """An actor as a GeoJSON feature: its public, organisational fields only."""

    location = GeometryField(source="location_wgs84", read_only=True, precision=6)
    id = serializers.CharField(source="source_id", read_only=True)
    commune = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    arrondissement = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    located = serializers.BooleanField(source="is_located", read_only=True)

    class Meta:
        model = Actor
        geo_field = "location"
        id_field = False
        fields = [
            "id", "name", "address", "postcode", "commune_name", "commune", "arrondissement", "located",
            "typologie", "services", "publics", "horaires", "telephone", "site_web", "presentation", "source",
        ]  # fmt: skip
