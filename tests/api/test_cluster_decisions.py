"""Curators teach the clustering: "same need" / "not the same need", kept through recluster, fitted, exported."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from carto.clustering import labelled
from carto.models import AuditEntry, ClusterDecision, ClusteringFit, ClusteringModel
from carto.services.cluster_rebuild import clusters_rebuild
from carto.services.clustering import cluster_assign
from tests.api.test_clusters import MONTREUIL, as_user, cluster_id, error, lift, printing
from tests.factories import BONDY, make_pin

pytestmark = pytest.mark.django_db
__all__ = ["lift", "printing"]  # fixtures


def decide(user, cluster: int, pin: int, same: bool, reason: str = ""):
    return as_user(user).post(
        f"/api/clusters/{cluster}/decisions/", {"pin": pin, "same": same, "reason": reason}, format="json"
    )


def test_not_the_same_need_moves_the_pin_out_is_audited_and_survives_recluster(moderator, printing):
    cluster = cluster_id(printing[0])
    odd = printing[2]
    response = decide(moderator, cluster, odd.pk, False, "imprimante à réparer, pas des papiers")
    assert response.status_code == 201
    assert odd.pk not in [p["id"] for p in response.json()["pins"]]
    assert cluster_id(odd) != cluster
    decision = ClusterDecision.objects.get()
    assert (decision.same, decision.created_by) == (False, moderator)
    assert odd.pk in (decision.pin_id, decision.other_pin_id)
    entry = AuditEntry.objects.get(action="cluster_decision")
    assert entry.data["pin"] == odd.pk and entry.data["same"] is False

    clusters_rebuild()
    assert cluster_id(odd) != cluster_id(printing[0])


def test_same_need_moves_a_pin_in_and_recluster_keeps_it_there(association, printing, lift):
    cluster = cluster_id(printing[0])
    assert decide(association, cluster, lift.pk, True).status_code == 201
    assert cluster_id(lift) == cluster
    clusters_rebuild()
    assert cluster_id(lift) == cluster_id(printing[0])


def test_contradictory_decisions_the_latest_wins_and_both_are_audited(moderator, association, printing):
    cluster = cluster_id(printing[0])
    odd = printing[1]
    decide(moderator, cluster, odd.pk, False)
    decide(association, cluster_id(odd), printing[0].pk, True)  # said from the other side
    clusters_rebuild()
    assert cluster_id(odd) == cluster_id(printing[0])
    assert ClusterDecision.objects.count() == 2
    assert AuditEntry.objects.filter(action="cluster_decision").count() == 2


@pytest.mark.parametrize("role", ["resident", "elected_official"])
def test_a_decision_by_a_role_without_the_right_is_a_403_and_writes_nothing(request, role, printing):
    user = request.getfixturevalue(role)
    response = decide(user, cluster_id(printing[0]), printing[1].pk, False)
    assert response.status_code == 403 and "error" in response.json()
    assert not ClusterDecision.objects.exists() and not AuditEntry.objects.exists()
    assert cluster_id(printing[1]) == cluster_id(printing[0])


def test_decisions_on_unknown_or_hidden_pins_and_unknown_clusters_are_404(moderator, printing):
    cluster = cluster_id(printing[0])
    hidden = make_pin(status="hidden")
    for url_cluster, pin in ((cluster, 10**9), (cluster, hidden.pk), (10**9, printing[1].pk)):
        response = decide(moderator, url_cluster, pin, False)
        assert response.status_code == 404 and error(response) == "not_found"
    bad = as_user(moderator).post(f"/api/clusters/{cluster}/decisions/", {"pin": "x"}, format="json")
    assert bad.status_code == 400 and "pin" in bad.json()["error"]["fields"]
    assert not ClusterDecision.objects.exists()


def test_fit_clustering_learns_a_new_version_that_the_next_recluster_uses(moderator, printing, lift):
    decide(moderator, cluster_id(printing[0]), printing[1].pk, True)
    call_command("fit_clustering", verbosity=0)
    fit = ClusteringFit.objects.get()
    assert fit.decisions == 1 and fit.groups > 40
    assert len(bytes(fit.matrix)) == 384 * 384 * 4
    clusters_rebuild()
    assert ClusteringModel.objects.get().fit == fit
    assert cluster_id(printing[0]) == cluster_id(printing[3]) != cluster_id(lift)


def test_decisions_export_in_the_labelled_set_format(moderator, printing, lift, tmp_path):
    decide(moderator, cluster_id(printing[0]), printing[1].pk, True)
    decide(moderator, cluster_id(printing[0]), lift.pk, False)
    out = tmp_path / "decisions.json"
    call_command("export_cluster_decisions", output=str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [sorted(g["texts"]) for g in data["groups"]] == [sorted([printing[0].text, printing[1].text])]
    assert data["pairs"] == [{"texts": [printing[0].text, lift.text], "same": False}]
    again = labelled.read(out)
    assert again.same_groups() == [[0, 1]]


def test_the_shipped_default_transform_is_the_fit_of_the_labelled_set():
    """carto/clustering/e5_fit.npz must be regenerated (fit_clustering --write-default) when the set changes."""
    import numpy as np

    from carto.clustering import embeddings
    from carto.clustering.labelled import fit

    data = labelled.read(embeddings.LABELLED)
    raw = embeddings.encode_raw(data.texts)
    fresh = fit(raw, data.same_groups(), shrinkage=embeddings.PARAMS.shrinkage)
    shipped = embeddings.default_transform()
    probe = embeddings.encode_raw(
        ["pas de wifi gratuit au square", "L'ascenseur est en panne", "no doctor here"]
    )
    assert np.allclose(fresh.apply(probe), shipped.apply(probe), atol=2e-3)


def test_a_pin_answers_its_cluster_in_detail_and_list_and_null_when_alone(client, printing):
    alone = make_pin(*BONDY, theme="logement", text="Les pigeons salissent tous les balcons")
    cluster_assign(alone)
    cluster = cluster_id(printing[0])
    detail = client.get(f"/api/pins/{printing[0].pk}/").json()["properties"]["cluster"]
    assert detail == {
        "id": cluster,
        "label": detail["label"],
        "pin_count": 4,
        "support_count": 0,
        "territory_count": 4,
    }
    assert detail["label"] in {p.text for p in printing}
    assert client.get(f"/api/pins/{alone.pk}/").json()["properties"]["cluster"] is None
    bbox = f"{MONTREUIL[0] - 0.3},{MONTREUIL[1] - 0.2},{MONTREUIL[0] + 0.3},{MONTREUIL[1] + 0.2}"
    listed = {
        f["id"]: f["properties"]["cluster"]
        for f in client.get("/api/pins/", {"bbox": bbox}).json()["features"]
    }
    assert listed[printing[0].pk] == detail
    assert listed[alone.pk] is None


def test_same_need_on_a_pin_already_there_confirms_it_and_takes_it_out_of_the_queue(moderator, printing):
    cluster = cluster_id(printing[0])
    queue = as_user(moderator).get("/api/moderation/queue/").json()["clustering"]
    doubtful = queue[0]["id"]
    assert decide(moderator, cluster, doubtful, True).status_code == 201
    assert cluster_id(next(p for p in printing if p.pk == doubtful)) == cluster
    after = as_user(moderator).get("/api/moderation/queue/").json()["clustering"]
    assert doubtful not in [item["id"] for item in after] and len(after) == len(queue) - 1


def test_an_admin_may_curate_by_the_roles_matrix(printing):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root-curator", "root@example.org", "x")
    assert decide(admin, cluster_id(printing[0]), printing[1].pk, False).status_code == 201
