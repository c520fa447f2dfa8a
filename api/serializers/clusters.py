"""Clusters, responses and nearby actors as JSON: public fields only (pins by their blurred location)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.actors import place_fields
from carto.geo import to_api
from carto.hours import hours_text
from carto.models import Cluster, ClusterTerritory, Pin, Response
from carto.services.linking import NearbyActor


class MergeInput(serializers.Serializer):
    other = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class SplitInput(serializers.Serializer):
    pin = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class DecisionInput(serializers.Serializer):
    pin = serializers.IntegerField(min_value=1)
    same = serializers.BooleanField()
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class RenameInput(serializers.Serializer):
    label = serializers.CharField(max_length=200)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class LinkInput(serializers.Serializer):
    response = serializers.SlugField(max_length=80)
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


# A cluster as a pin's card shows it ("N people in M communes say the same"): the pin detail, the bbox list
# (built in SQL by api.serializers.pins), /api/pins/similar/ and the moderation queue.
CLUSTER_BRIEF_FIELDS = ("id", "label", "pin_count", "support_count", "territory_count")


def cluster_brief(cluster: Cluster) -> dict:
    return {name: getattr(cluster, name) for name in CLUSTER_BRIEF_FIELDS}


def cluster_summary(cluster: Cluster) -> dict:
    return {
        **cluster_brief(cluster),
        "label_locked": cluster.label_locked,
        "themes": list(cluster.themes),
        "covered": bool(getattr(cluster, "covered", False)),
    }


def pin_public(pin: Pin) -> dict:
    """A pin's public fields; the location is the blurred public one, in WGS84."""
    point = to_api(pin.public_location)
    return {
        "id": pin.pk,
        "kind": pin.kind,
        "theme": pin.theme.slug,
        "text": pin.text,
        "status": pin.status,
        "support_count": pin.support_count,
        "location": {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]},
    }


def territory_count(row: ClusterTerritory) -> dict:
    t = row.territory
    return {"code": t.code, "name": t.name, "kind": t.kind, "pin_count": row.pin_count}


def response_public(response: Response) -> dict:
    return {
        "slug": response.slug,
        "name": response.name,
        "operator": response.operator,
        "scale": response.scale,
        "area_codes": list(response.area_codes),
        "themes": list(response.themes),
        "url": response.url,
        "description": response.description,
        "active_from": response.active_from.isoformat() if response.active_from else None,
        "active_until": response.active_until.isoformat() if response.active_until else None,
    }


def actor_nearby(item: NearbyActor, *, language: str = "fr") -> dict:
    """One place that can help, for a pin's card: names in normal case, its records merged, the opening
    hours both as published (OSM syntax) and in words in `language` (null when they cannot be read)."""
    fields = place_fields(item.place)
    point = to_api(item.actor.location)
    horaires = fields["horaires"]
    return {
        "source_id": item.actor.source_id,
        "source_ids": fields["source_ids"],
        "name": fields["name"],
        "other_names": fields["other_names"],
        "address": fields["address"],
        "postcode": fields["postcode"],
        "commune": fields["commune_name"],
        "services": fields["services"],
        "horaires": horaires,
        "hours": hours_text(horaires, language) if horaires else None,
        "telephone": fields["telephone"],
        "site_web": fields["site_web"],
        "distance_m": item.distance_m,
        "location": {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]},
    }
