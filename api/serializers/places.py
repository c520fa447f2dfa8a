"""Places out of the API: search results and what is near a point (carto.services.places)."""

from __future__ import annotations

from rest_framework import serializers

from carto.models import PlaceName

COORDINATE_DECIMALS = 6  # about 10 cm: these are public places, not residents' locations


class Coordinate(serializers.FloatField):
    def to_representation(self, value) -> float:
        return round(float(value), COORDINATE_DECIMALS)


class PlaceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PlaceName.Kind.choices)
    code = serializers.CharField(
        help_text="INSEE code, QPV code (QN…), IDFM stop area, or a street's: its INSEE code and a hash of its name"
    )
    name = serializers.CharField()
    label = serializers.CharField(
        help_text='what to show: "Montreuil (93)", "Belleville · M2 M11", "Rue des Pyrénées · Paris 20e"'
    )
    lon = Coordinate()
    lat = Coordinate(help_text="a point inside the place (on a street), where the map goes")
    bbox = serializers.ListField(
        child=Coordinate(),
        min_length=4,
        max_length=4,
        allow_null=True,
        help_text="minlon, minlat, maxlon, maxlat of a territory or a street; null for a station",
    )


class PlaceSearchSerializer(serializers.Serializer):
    results = PlaceSerializer(many=True)


class TerritoryRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class LineSerializer(serializers.Serializer):
    label = serializers.CharField(help_text='"M2", "RER A", "T3b", "Train H"')
    colour = serializers.CharField(help_text="IDFM's colour of the line, #rrggbb")


class NearStationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    label = serializers.CharField(help_text='"Belleville · M2 M11"')
    lines = LineSerializer(many=True)
    distance_m = serializers.IntegerField(help_text="rounded to 10 m")
    lon = Coordinate()
    lat = Coordinate()


class NearbySerializer(serializers.Serializer):
    inside_metropole = serializers.BooleanField()
    station = NearStationSerializer(allow_null=True, help_text="the nearest station within 1 km")
    commune = TerritoryRefSerializer(allow_null=True)
    arrondissement = TerritoryRefSerializer(allow_null=True)
    qpv = TerritoryRefSerializer(allow_null=True, help_text="the QPV containing the point")
