from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from carto.models import Territory


class TerritoryFeatureSerializer(GeoFeatureModelSerializer):
    """A territory as a GeoJSON feature in WGS84 (the queryset annotates `geometry_wgs84`)."""

    geometry = GeometryField(source="geometry_wgs84", read_only=True, precision=5)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    communes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Territory
        geo_field = "geometry"
        id_field = "code"
        fields = ["code", "kind", "name", "population", "parent", "siren", "communes"]


class TerritoryRefSerializer(serializers.ModelSerializer):
    """The short form of a territory, used inside other resources."""

    class Meta:
        model = Territory
        fields = ["code", "kind", "name"]
