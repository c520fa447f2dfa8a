"""Residents see the rebuild's grouping: the worker rebuilds every cluster once the map is quiet after new pins."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import connection

from carto.models import ClusteringModel, PinCluster
from carto.services.cluster_rebuild import clusters_rebuild
from tests.factories import BELLEVILLE, BONDY, make_pin
from tests.jobs import jobs_done, run_queued_jobs

VILLENEUVE = (2.3260, 48.9370)


def _rebuild_jobs() -> list[float]:
    """Seconds from now to each queued rebuild."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM scheduled_at - now()) FROM procrastinate_jobs"
            " WHERE task_name = 'carto.recluster' AND status = 'todo'"
        )
        return [float(seconds) for (seconds,) in cursor.fetchall()]


def _groups() -> set[frozenset[int]]:
    members = defaultdict(set)
    for pin_id, cluster_id in PinCluster.objects.values_list("pin_id", "cluster_id"):
        members[cluster_id].add(pin_id)
    return {frozenset(pins) for pins in members.values()}


@pytest.mark.django_db
def test_a_clustered_pin_asks_for_one_rebuild_a_quiet_minute_later(settings):
    settings.CARTO_RECLUSTER_AFTER_SECONDS = 60
    make_pin(*BELLEVILLE)
    run_queued_jobs()
    (due,) = _rebuild_jobs()
    assert 55 < due < 65  # now() is the test transaction's start
    # Pins clustered while it waits are in that rebuild: no second one (the transaction stays usable).
    make_pin(*BONDY, text="Plus d'imprimante à la médiathèque pour la CAF")
    run_queued_jobs()
    assert len(_rebuild_jobs()) == 1
    assert PinCluster.objects.count() == 2


@pytest.mark.django_db
def test_no_automatic_rebuild_when_switched_off_or_above_the_size_limit(settings):
    settings.CARTO_RECLUSTER_AFTER_SECONDS = 0
    make_pin(*BELLEVILLE)
    run_queued_jobs()
    assert _rebuild_jobs() == []
    settings.CARTO_RECLUSTER_AFTER_SECONDS = 60
    settings.CARTO_RECLUSTER_AUTO_MAX_PINS = -1  # the nightly rebuild serves a map this large
    make_pin(*BONDY)
    run_queued_jobs()
    assert _rebuild_jobs() == []
    assert PinCluster.objects.count() == 2


def test_the_worker_runs_the_rebuild_and_pins_keep_one_cluster_each(committed_db, worker, settings):
    texts = [
        (BELLEVILLE, "mobilite", "L'ascenseur de la tour est en panne depuis trois semaines"),
        (BONDY, "mobilite", "ascenseur bloqué encore, ma mère ne peut plus descendre"),
        (VILLENEUVE, "mobilite", "The lift in our building has been broken for a month"),
        (BELLEVILLE, "logement", "Des punaises de lit dans tout l'immeuble"),
        (BONDY, "logement", "punaises de lit partout, le bailleur ne fait rien"),
        (VILLENEUVE, "logement", "bed bugs in every flat, nobody treats the building"),
    ]
    pins = [make_pin(*where, theme=theme, text=text) for where, theme, text in texts]
    jobs_done()  # the session's worker placed them online (it never rebuilds on its own)
    before = ClusteringModel.objects.first()  # none before a first rebuild
    from carto.tasks import recluster_soon

    settings.CARTO_RECLUSTER_AFTER_SECONDS = 1
    assert recluster_soon()
    jobs_done()  # the worker waited a second, then rebuilt
    assert ClusteringModel.objects.get().version == (before.version if before else 0) + 1
    assert sorted(PinCluster.objects.values_list("pin_id", flat=True)) == sorted(p.pk for p in pins)
    rebuilt = _groups()
    clusters_rebuild()  # the same grouping a rebuild run by hand gives
    assert _groups() == rebuilt
