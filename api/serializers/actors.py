from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from carto.actor_places import Place, normal_case
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


def place_fields(place: Place) -> dict:
    """What a place's merged records say (carto.actor_places): its name and address in normal case, its other
    names, every record's id, the first filled contact of any record, the services of all. One rule for the
    map's help places layer and the card's "who can help"."""
    return {
        "name": place.name,
        "other_names": place.other_names,
        "source_ids": [r.source_id for r in place.records],
        "address": place.address,
        "postcode": place.value("postcode"),
        "commune_name": normal_case(place.value("commune_name")),
        "services": place.services,
        "horaires": place.value("horaires"),
        "telephone": place.value("telephone"),
        "site_web": place.value("site_web"),
    }


def place_feature(place: Place) -> dict:
    """A help place as a GeoJSON feature: its shown record, its fields merged from all of them."""
    feature = ActorFeatureSerializer(place.shown).data
    feature["properties"].update(place_fields(place))
    return feature
