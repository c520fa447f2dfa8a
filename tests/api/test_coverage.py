"""GET /api/coverage/: widespread needs without a response, and what each response covers."""

from __future__ import annotations

import pytest

from carto.importers.responses import responses_import
from carto.models import PinCluster, Response
from carto.services.clustering import cluster_assign
from carto.services.linking import response_link
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def clusters():
    printing = [
        make_pin(*BELLEVILLE, text="Pas d'endroit pour imprimer mes papiers CAF"),
        make_pin(*BONDY, text="impossible d imprimer les documents caf"),
        make_pin(*VILLENEUVE_LA_GARENNE, text="jdois imprimer mon dossier caf, pas d imprimante"),
    ]
    phone = [
        make_pin(*BELLEVILLE, theme="se-former", text="Ma mère ne sait pas utiliser son smartphone"),
        make_pin(
            *BONDY, theme="se-former", text="mon pere sait pas se servir du smartphone, il faut des ateliers"
        ),
    ]
    lonely = make_pin(*BONDY, theme="logement", text="L'ascenseur est en panne depuis des semaines")
    for pin in [*printing, *phone, lonely]:
        cluster_assign(pin)
    return [PinCluster.objects.get(pin=p).cluster for p in (printing[0], phone[0], lonely)]


def test_gaps_are_clusters_spanning_enough_territories_without_a_response(client, clusters, association):
    responses_import()
    printing, phone, lonely = clusters
    body = client.get("/api/coverage/", {"min_territories": 2}).json()
    assert [c["id"] for c in body["gaps"]] == [printing.pk, phone.pk]
    assert [c["id"] for c in client.get("/api/coverage/", {"min_territories": 3}).json()["gaps"]] == [
        printing.pk
    ]

    response_link(cluster=printing, response=Response.objects.get(slug="france-services"), actor=association)

    body = client.get("/api/coverage/", {"min_territories": 2}).json()
    assert [c["id"] for c in body["gaps"]] == [phone.pk]
    covers = {r["response"]["slug"]: [c["id"] for c in r["clusters"]] for r in body["responses"]}
    assert covers["france-services"] == [printing.pk]
    assert covers["aidants-connect"] == []


def test_a_bad_min_territories_is_a_400(client):
    response = client.get("/api/coverage/", {"min_territories": "many"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_gaps_are_ranked_by_pins_plus_supports_and_count_the_supports(client, clusters):
    from carto.services.supports import pin_support

    printing, phone, _ = clusters
    phone_pin = PinCluster.objects.filter(cluster=phone).order_by("pin_id").first().pin
    for n in range(3):  # three neighbours say "moi aussi" on the smartphone need
        pin_support(pin_id=phone_pin.pk, device_hash=f"device-{n}")
    gaps = client.get("/api/coverage/", {"min_territories": 2}).json()["gaps"]
    assert [(c["id"], c["pin_count"], c["support_count"]) for c in gaps] == [
        (phone.pk, 2, 3),  # 5 voices
        (printing.pk, 3, 0),  # 3 voices
    ]


def test_a_need_pinned_twice_by_one_device_is_not_a_shared_need(client):
    text = "Les jeunes n'ont aucun terrain de foot en état dans la cité"
    same_device = [
        make_pin(*where, theme="jeunesse", text=text, device_hash="one-resident")
        for where in (BELLEVILLE, BONDY)
    ]
    for pin in same_device:
        cluster_assign(pin)
    assert client.get("/api/coverage/", {"min_territories": 2}).json()["gaps"] == []
    other = make_pin(*VILLENEUVE_LA_GARENNE, theme="jeunesse", text=text, device_hash="another-resident")
    cluster_assign(other)
    gaps = client.get("/api/coverage/", {"min_territories": 2}).json()["gaps"]
    assert [c["pin_count"] for c in gaps] == [3]
