"""GET /api/actors/ as the map's help places layer: one feature per place, names in normal case, the card's rule."""

from __future__ import annotations

import pytest

from carto.actor_places import is_shouted, normal_case, places_of
from carto.models import Actor

pytestmark = pytest.mark.django_db

MGP = {"mgp": "true", "bbox": "2.14,48.64,2.62,49.02"}  # what the map asks for


def test_the_layer_has_one_feature_per_place_as_the_card_lists_them(client):
    features = client.get("/api/actors/", MGP).json()["features"]
    located = Actor.objects.located().filter(in_mgp=True).order_by("name", "id")
    assert len(features) == len(places_of(located)) < located.count()
    ids = [source_id for f in features for source_id in f["properties"]["source_ids"]]
    assert sorted(ids) == sorted(a.source_id for a in located), "every record once, in its place"
    # 71 rue Archereau: four "EMMAUS CONNECT FONDATEUR ABBE PIERRE" and WeTechCare, one mark.
    emmaus = [f for f in features if "Emmaus Connect" in f["properties"]["name"]]
    assert [(f["properties"]["name"], len(f["properties"]["source_ids"])) for f in emmaus] == [
        ("Emmaus Connect Fondateur Abbe Pierre", 5)
    ]


def test_names_and_addresses_on_the_layer_are_in_normal_case(client):
    features = client.get("/api/actors/", MGP).json()["features"]
    assert features
    names = {f["properties"]["name"] for f in features}
    assert "Association Belleville Citoyenne" not in names  # one of Belleville Citoyenne's other names
    # Capitals only where normal case keeps them (acronyms: CASVP, AA92); the data has hundreds in capitals.
    assert sum(is_shouted(a.name) for a in Actor.objects.located().filter(in_mgp=True)) > 100
    assert not [n for n in names if normal_case(n) != n]
    addresses = [f["properties"]["address"] for f in features]
    assert not [a for a in addresses if normal_case(a, address=True) != a]
    names = [f["properties"]["name"].casefold() for f in features]
    assert names == sorted(names)


def test_actors_without_a_point_are_still_listed_without_a_bbox(client):
    features = client.get("/api/actors/").json()["features"]
    unlocated = [f for f in features if not f["properties"]["located"]]
    assert {f["properties"]["name"] for f in unlocated} >= {"Amandiers Connexion"}
    assert all(f["geometry"] is None for f in unlocated)
