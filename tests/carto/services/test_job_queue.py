"""Clustering leaves the request: a job queued in the pin's own transaction, run by the real worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from carto.models import Pin, PinCluster
from tests.database import database_url
from tests.factories import BELLEVILLE, BONDY, make_pin
from tests.jobs import WORKER_ENV, jobs_done, run_queued_jobs

ROOT = Path(__file__).resolve().parents[3]


def _jobs() -> list[tuple[str, dict, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, args::text, status FROM procrastinate_jobs WHERE queue_name = 'clustering'"
        )
        return [(task, json.loads(args), status) for task, args, status in cursor.fetchall()]


def _registered(workers: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT count(*) FROM procrastinate_workers")
            if cursor.fetchone()[0] >= workers:
                return
            assert time.monotonic() < deadline, "the job worker never registered"
            time.sleep(0.1)


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_a_pin_queues_exactly_one_clustering_job_in_its_own_transaction():
    pin = make_pin(*BELLEVILLE)
    assert _jobs() == [("carto.cluster_pin", {"pin_id": pin.pk}, "todo")]
    assert not PinCluster.objects.filter(pin=pin).exists()  # the request did not cluster it

    with pytest.raises(Rollback), transaction.atomic():
        make_pin(*BONDY, text="Pas de wifi à la médiathèque")
        raise Rollback
    # The rolled-back pin left no job: no job ever points at a pin that was never committed.
    assert _jobs() == [("carto.cluster_pin", {"pin_id": pin.pk}, "todo")]

    assert run_queued_jobs() == 1
    assert PinCluster.objects.filter(pin=pin).count() == 1
    assert _jobs() == []


@pytest.mark.django_db
def test_the_clustering_job_is_idempotent_and_skips_a_pin_deleted_meanwhile():
    from carto.tasks import cluster_pin

    pin = make_pin(*BELLEVILLE)
    gone = make_pin(*BONDY)
    gone_id = gone.pk
    gone.delete()
    run_queued_jobs()
    cluster = PinCluster.objects.get(pin=pin).cluster
    cluster_pin(pin_id=pin.pk)  # run again, as after a worker killed before it could mark the job done
    cluster.refresh_from_db()
    assert PinCluster.objects.filter(pin=pin).count() == 1
    assert cluster.pin_count == 1
    assert (
        not Pin.objects.filter(pk=gone_id).exists() and not PinCluster.objects.filter(pin_id=gone_id).exists()
    )


@pytest.mark.django_db
def test_readiness_reports_the_backlog_and_turns_unavailable_when_the_queue_is_stuck(client, settings):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    queue = ready.json()["queue"]
    assert {k: queue[k] for k in ("queued", "running", "failed", "oldest_queued_seconds", "state")} == {
        "queued": 0, "running": 0, "failed": 0, "oldest_queued_seconds": 0.0, "state": "ok",
    }  # fmt: skip

    make_pin(*BELLEVILLE)
    make_pin(*BONDY)
    queue = client.get("/readyz").json()["queue"]
    assert (queue["queued"], queue["state"]) == (2, "ok")

    # Nothing took them for longer than the limit: a worker is down or cannot keep up.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - interval '10 minutes' WHERE type = 'deferred'"
        )
    settings.CARTO_QUEUE_STUCK_SECONDS = 120
    stuck = client.get("/readyz")
    assert stuck.status_code == 503
    body = stuck.json()
    assert (body["status"], body["queue"]["state"], body["queue"]["queued"]) == ("unavailable", "stuck", 2)
    assert body["queue"]["oldest_queued_seconds"] >= 600


def test_the_real_worker_clusters_pins_posted_through_the_api(client, committed_db, worker):
    ids = []
    for lon, lat in (BELLEVILLE, BONDY):
        response = client.post(
            "/api/pins/",
            {"client_uuid": str(uuid.uuid4()), "kind": "need", "theme": "acceder-droits",
             "text": "Personne pour m'aider à faire ma demande de CAF en ligne", "lon": lon, "lat": lat},
            content_type="application/json",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    jobs_done()
    links = dict(PinCluster.objects.filter(pin_id__in=ids).values_list("pin_id", "cluster_id"))
    assert set(links) == set(ids)
    # Same need, two communes: one cluster, the same for both, as the resident's page shows.
    assert len(set(links.values())) == 1
    shown = client.get(f"/api/pins/{ids[0]}/").json()["properties"]["cluster"]
    assert shown["pin_count"] == 2 and shown["territory_count"] == 2


def test_a_worker_that_lost_the_database_for_two_minutes_is_not_pruned_by_a_starting_one(
    committed_db, worker
):
    # The running worker's heartbeats failed for two minutes (frozen here, so that none lands meanwhile);
    # then a second worker starts, and a starting worker deletes the rows of the workers it takes for dead.
    _registered(1)  # the session's worker may still be starting when this test runs first
    worker.send_signal(signal.SIGSTOP)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '120 seconds'")
        starting = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot"],
            cwd=ROOT, env={**os.environ, **WORKER_ENV, "DATABASE_URL": database_url()},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        worker.send_signal(signal.SIGCONT)
    assert starting.returncode == 0, starting.stderr
    # The first worker kept its row: a deleted row fails each of its fetches on the jobs' worker_id foreign
    # key, forever ("Database error." every poll, the queue never served).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_workers")
        assert cursor.fetchone()[0] == 1
    pin = make_pin(*BELLEVILLE)
    jobs_done()
    assert PinCluster.objects.filter(pin=pin).exists()


def test_a_job_a_live_worker_lost_goes_back_to_the_queue_and_is_done(committed_db, worker):
    # A worker whose connection was cut as it finished a job beats on, and the job stays "doing": here a
    # worker row that keeps beating holds the pin's job, started 10 minutes ago (committed as one, so the
    # real worker never sees the job "todo").
    with transaction.atomic(), connection.cursor() as cursor:
        pin = make_pin(*BELLEVILLE)
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() + interval '1 hour') RETURNING id"
        )
        (alive,) = cursor.fetchone()
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", [alive])
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - interval '10 minutes' WHERE type = 'started'"
        )
    try:
        jobs_done()  # carto.recover_stalled (every 5 s) puts it back; the real worker clusters the pin
        assert PinCluster.objects.filter(pin=pin).count() == 1
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_workers WHERE id = %s", [alive])


def test_a_job_started_a_moment_ago_is_left_to_its_live_worker(committed_db, settings):
    from types import SimpleNamespace

    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django import app

    from carto.tasks import recover_stalled

    pin = make_pin(*BELLEVILLE)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now()) RETURNING id")
        (alive,) = cursor.fetchone()
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s", [alive])
    try:
        # async_to_sync: its queries run on this thread's connection, as the worker's do on its own.
        async_to_sync(recover_stalled.func)(SimpleNamespace(app=app), timestamp=0)
        assert _jobs() == [("carto.cluster_pin", {"pin_id": pin.pk}, "doing")]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs")
            cursor.execute("DELETE FROM procrastinate_workers WHERE id = %s", [alive])
