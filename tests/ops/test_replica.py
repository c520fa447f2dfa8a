"""A real streaming replica of the project-local cluster: map reads go there, writes and own reads do not.

Takes ~10 s: pg_basebackup of the cluster into a temporary folder, a second postgres on a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config.db_router import COOKIE

PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
BBOX = "2.35,48.85,2.40,48.88"  # Belleville and around, Paris 19e/20e
NEW_PIN = {
    "client_uuid": "0b8f3f7a-52c1-4d7e-bd0e-6a1c9e2f4a10",
    "kind": "need",
    "theme": "acceder-droits",
    "text": "Pas d'endroit pour imprimer mes papiers CAF",
    "lat": 48.8700,  # Belleville, Paris 20e
    "lon": 2.3790,
}


def _as_cluster_owner(command: list[str]) -> list[str]:
    # postgres refuses to run as root: as root the project-local cluster belongs to the postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A hot standby of the cluster (test database included), registered as the alias replica_0."""
    primary = connections["default"].settings_dict
    folder = Path(tempfile.mkdtemp(prefix="carto-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    port = _free_port()
    pg_ctl = [str(PGBIN / "pg_ctl"), "-D", str(folder)]
    subprocess.run(
        _as_cluster_owner(
            [str(PGBIN / "pg_basebackup"), "-R", "-X", "stream", "-D", str(folder), "-h", primary["HOST"],
             "-p", str(primary["PORT"]), "-U", primary["USER"], "-c", "fast"]
        ),
        check=True, capture_output=True,
    )  # fmt: skip
    # A hot standby needs max_connections (and friends) >= the primary's; a small buffer pool is enough.
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=32MB"
    )
    subprocess.run(
        _as_cluster_owner([*pg_ctl, "-l", str(folder / "replica.log"), "-w", "-t", "60", "-o", options, "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    alias = "replica_0"
    connections.settings[alias] = {**primary, "PORT": str(port), "TEST": {"MIRROR": None}}
    try:
        with django_db_blocker.unblock():
            yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
        subprocess.run(_as_cluster_owner([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _caught_up(alias: str) -> bool:
    """The replica has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
        return bool(cursor.fetchone()[0])


def test_the_replica_is_a_hot_standby_of_the_test_database(committed_db, replica):
    _wait_until(lambda: _caught_up(replica), "the replica to catch up")
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        assert cursor.fetchone() == (True, connections["default"].settings_dict["NAME"])
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            cursor.cursor.execute("CREATE TABLE nope (id int)")


def test_a_bbox_read_is_served_by_the_replica(committed_db, replica):
    _wait_until(lambda: _caught_up(replica), "the replica to catch up")
    client = Client()
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[replica]) as on_replica,
    ):
        response = client.get(f"/api/actors/?bbox={BBOX}")
    assert response.status_code == 200
    assert len(on_replica) >= 1
    assert len(on_primary) == 0


def test_a_create_goes_to_the_primary_and_its_author_reads_it_back_at_once(committed_db, replica):
    client = Client()
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[replica]) as on_replica,
    ):
        created = client.post("/api/pins/", NEW_PIN, content_type="application/json")
    assert created.status_code == 201, created.content
    assert any("INSERT" in q["sql"] for q in on_primary.captured_queries)
    assert len(on_replica) == 0
    assert COOKIE in created.cookies

    pin_id = created.json()["id"] if "id" in created.json() else created.json()["properties"]["id"]
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[replica]) as on_replica,
    ):
        again = client.get(f"/api/pins/{pin_id}/")
    # The cookie pins the author to the primary: their pin is there even if the replica lags behind.
    assert again.status_code == 200
    assert len(on_primary) >= 1
    assert len(on_replica) == 0

    # Another visitor (no cookie) reads from the replica, which gets the pin once it has caught up.
    _wait_until(lambda: _caught_up(replica), "the replica to catch up")
    with CaptureQueriesContext(connections[replica]) as on_replica:
        assert Client().get(f"/api/pins/{pin_id}/").status_code == 200
    assert len(on_replica) >= 1
