"""GET /api/clusters/, detail, curator actions, and GET /api/pins/{id}/actors/."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from carto.importers.responses import responses_import
from carto.models import AuditEntry, Cluster, PinCluster
from carto.services.clustering import cluster_assign
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin

pytestmark = pytest.mark.django_db

MONTREUIL = (2.4410, 48.8610)  # Montreuil centre, Seine-Saint-Denis (T8 Est Ensemble)


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def printing():
    """The printing need in 4 communes of 3 EPT, clustered."""
    pins = [
        make_pin(*BELLEVILLE, text="Pas d'endroit pour imprimer mes papiers CAF dans le quartier"),
        make_pin(*BONDY, text="impossible d imprimer les documents caf, pas d imprimante chez moi"),
        make_pin(
            *MONTREUIL, theme="equipement-connexion", text="Besoin d'une imprimante pour les dossiers CAF"
        ),
        make_pin(*VILLENEUVE_LA_GARENNE, text="jdois imprimer mon dossier caf et jai pas d imprimante"),
    ]
    for pin in pins:
        cluster_assign(pin)
    return pins


@pytest.fixture
def lift():
    pin = make_pin(
        *BONDY, theme="logement", text="L'ascenseur de mon immeuble est en panne depuis trois semaines"
    )
    cluster_assign(pin)
    return pin


def cluster_id(pin) -> int:
    return PinCluster.objects.get(pin=pin).cluster_id


def error(response) -> str:
    return response.json()["error"]["code"]


def test_clusters_are_listed_by_territories_then_pins_with_filters(client, printing, lift):
    body = client.get("/api/clusters/").json()
    assert [c["id"] for c in body["results"]] == [cluster_id(printing[0]), cluster_id(lift)]
    assert body["results"][0]["territory_count"] == 4
    assert body["results"][0]["covered"] is False
    wide = client.get("/api/clusters/", {"min_territories": 2}).json()["results"]
    assert [c["id"] for c in wide] == [cluster_id(printing[0])]
    housing = client.get("/api/clusters/", {"theme": "logement"}).json()["results"]
    assert [c["id"] for c in housing] == [cluster_id(lift)]
    grouped = client.get("/api/clusters/", {"theme": "numerique"}).json()["results"]
    assert [c["id"] for c in grouped] == [cluster_id(printing[0])]
    in_t5 = client.get("/api/clusters/", {"territory": "T5"}).json()["results"]
    assert [c["id"] for c in in_t5] == [cluster_id(printing[0])]
    assert client.get("/api/clusters/", {"covered": "true"}).json()["results"] == []


def test_the_cluster_list_runs_a_bounded_number_of_queries(client, printing, lift):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/clusters/").status_code == 200
    assert len(queries) <= 4


@pytest.mark.parametrize(
    "params",
    [
        {"min_territories": "x"},
        {"covered": "maybe"},
        {"theme": "nope"},
        {"territory": "99999"},
        {"limit": "-1"},
    ],
)
def test_bad_list_parameters_are_a_400_in_the_one_error_shape(client, params):
    response = client.get("/api/clusters/", params)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_the_cluster_detail_shows_public_pin_fields_territories_actors_and_responses(client, printing):
    responses_import()
    body = client.get(f"/api/clusters/{cluster_id(printing[0])}/").json()
    assert len(body["pins"]) == 4
    assert set(body["pins"][0]) == {"id", "kind", "theme", "text", "status", "support_count", "location"}
    lon, lat = body["pins"][0]["location"]["coordinates"]
    assert 2.2 < lon < 2.6 and 48.8 < lat < 49.0
    kinds = {t["kind"] for t in body["territories"]}
    assert {"commune", "ept"} <= kinds
    assert body["actors"], "actors near Belleville help with paperwork"
    assert "france-services" in {r["slug"] for r in body["responses"]["suggested"]}
    assert body["responses"]["linked"] == []


def test_an_unknown_cluster_is_a_404(client):
    response = client.get("/api/clusters/999999/")
    assert response.status_code == 404
    assert error(response) == "not_found"


def test_a_moderator_merges_two_clusters_with_an_audit_row(moderator, printing, lift):
    target, other = cluster_id(printing[0]), cluster_id(lift)
    response = as_user(moderator).post(f"/api/clusters/{target}/merge/", {"other": other}, format="json")
    assert response.status_code == 200
    assert response.json()["pin_count"] == 5
    assert not Cluster.objects.filter(pk=other).exists()
    assert AuditEntry.objects.get().action == "cluster_merge"


def test_merging_a_cluster_with_itself_is_a_400(moderator, printing):
    target = cluster_id(printing[0])
    response = as_user(moderator).post(f"/api/clusters/{target}/merge/", {"other": target}, format="json")
    assert response.status_code == 400
    assert error(response) == "self_merge"


def test_merging_with_an_unknown_cluster_is_a_404(moderator, printing):
    target = cluster_id(printing[0])
    response = as_user(moderator).post(f"/api/clusters/{target}/merge/", {"other": 999999}, format="json")
    assert response.status_code == 404


def test_a_resident_or_a_stranger_cannot_merge_split_rename_or_link(resident, printing, lift):
    responses_import()
    target = cluster_id(printing[0])
    for user_client in (as_user(resident), APIClient()):
        calls = [
            user_client.post(f"/api/clusters/{target}/merge/", {"other": cluster_id(lift)}, format="json"),
            user_client.post(f"/api/clusters/{target}/split/", {"pin": printing[1].pk}, format="json"),
            user_client.patch(f"/api/clusters/{target}/", {"label": "x"}, format="json"),
            user_client.post(
                f"/api/clusters/{target}/responses/", {"response": "france-services"}, format="json"
            ),
        ]
        assert [r.status_code for r in calls] == [403, 403, 403, 403]
    assert not AuditEntry.objects.exists()


def test_an_association_splits_a_pin_out_and_renames(association, printing):
    target = cluster_id(printing[0])
    split = as_user(association).post(
        f"/api/clusters/{target}/split/", {"pin": printing[2].pk}, format="json"
    )
    assert split.status_code == 201
    assert split.json()["pin_count"] == 1
    renamed = as_user(association).patch(
        f"/api/clusters/{target}/", {"label": "Imprimer ses papiers"}, format="json"
    )
    assert renamed.status_code == 200
    assert renamed.json()["label"] == "Imprimer ses papiers"
    assert renamed.json()["label_locked"] is True
    unknown = as_user(association).post(f"/api/clusters/{target}/split/", {"pin": 999999}, format="json")
    assert unknown.status_code == 404


def test_linking_a_response_twice_is_a_422_and_unknown_responses_a_404(moderator, printing):
    responses_import()
    target = cluster_id(printing[0])
    client = as_user(moderator)
    first = client.post(f"/api/clusters/{target}/responses/", {"response": "france-services"}, format="json")
    assert first.status_code == 201
    assert [r["slug"] for r in first.json()["responses"]["linked"]] == ["france-services"]
    again = client.post(f"/api/clusters/{target}/responses/", {"response": "france-services"}, format="json")
    assert again.status_code == 422
    assert error(again) == "already_linked"
    unknown = client.post(f"/api/clusters/{target}/responses/", {"response": "nope"}, format="json")
    assert unknown.status_code == 404
    assert AuditEntry.objects.filter(action="response_link").count() == 1


def test_a_printing_need_near_belleville_lists_real_actors_who_help_with_paperwork(client):
    pin = make_pin(*BELLEVILLE, theme="acceder-droits", text="imprimer mes papiers CAF")
    body = client.get(f"/api/pins/{pin.pk}/actors/").json()
    actors = body["actors"]
    assert 1 <= len(actors) <= 6  # five, and the nearest paperwork help if none of them is one
    # The nearest place that can help comes first (issue 13: a resident walks to the nearest help), and a
    # place that helps with the paperwork itself is among them.
    assert [a["distance_m"] for a in actors] == sorted(a["distance_m"] for a in actors)
    assert any("Aide aux démarches administratives" in a["services"] for a in actors)
    assert all(a["distance_m"] % 50 == 0 and a["distance_m"] <= 3000 for a in actors)
    assert all("horaires" in a for a in actors)


def test_actors_of_an_unknown_or_hidden_pin_are_a_404(client):
    pending = make_pin(status="pending")
    assert client.get(f"/api/pins/{pending.pk}/actors/").status_code == 404
    assert client.get("/api/pins/999999/actors/").status_code == 404
