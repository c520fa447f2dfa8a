"""Test set-up: one real PostGIS test database, the real territories loaded once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import setup_databases, teardown_databases
from pytest_django.live_server_helper import LiveServer

from tests.database import database_url
from tests.jobs import WORKER_ENV

# Tables written by tests that need committed data (concurrency, live server): emptied after each such test.
# Reference data (territories, themes, actors) is loaded once and never touched.
VOLATILE_TABLES = [
    # The job queue first, in the order the worker's own transactions lock it (a periodic defer writes
    # periodic_defers, then jobs, then events): truncating in another order deadlocked with the worker.
    # A job left by one test must not run against the next test's pins.
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_events",
    "carto_support",
    "carto_pinphoto",
    "carto_writecounter",
    "carto_pin",
    "authtoken_token",
    "auth_user_groups",
    "auth_user",
    "carto_pincluster",
    "carto_clusterterm",
    "carto_clusterterritory",
    "carto_clusteroverride",
    "carto_clusterdecision",
    "carto_clusteringfit",
    "carto_responselink",
    "carto_auditentry",
    "carto_cluster",
    "carto_clusteringmodel",
    "carto_pin_cell",
    "carto_pin_hex",
    "carto_pin_cell_total",
    "carto_pin_hex_total",
    "carto_flag",
    "carto_statuschange",
    "carto_comment",
    "carto_apikey",
    "carto_usedlink",
]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Test transactions never commit, so the map version that keys the tile and statistics caches never
    # bumps between tests: each starts cold.
    cache.clear()


def pytest_configure(config):
    # Password hashing is deliberately slow (PBKDF2); the cast of signed-in users does not need it in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Test transactions never commit nor bump the map version: an in-memory map index built in one test
    # would answer the next. Map groups come from SQL unless a test asks for the index (tests/carto/stats).
    settings.CARTO_MAP_INDEX = "off"
    # No rebuild behind a test's back: the tests that want one ask for it (tests/carto/clustering).
    settings.CARTO_RECLUSTER_AFTER_SECONDS = 0


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """Create the test database and load the real territories, QPV list, actors, themes and responses.

    Written out instead of extending pytest-django's fixture: that one only creates databases for tests
    marked django_db, so a run of committed_db tests alone would have written to the development database.
    """
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
        )
        call_command("load_all", verbosity=0)
    yield
    with django_db_blocker.unblock():
        # Subprocesses (job worker, gunicorn) and live-server threads may still hold connections as they
        # close: end them, or DROP DATABASE refuses and the test database is left behind.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        try:
            teardown_databases(config, verbosity=0)
        except Exception as exc:  # noqa: BLE001 (a leftover connection must not fail the run)
            request.node.warn(pytest.PytestWarning(f"could not drop the test database: {exc!r}"))


@pytest.fixture(scope="session")
def server(django_db_setup, django_db_blocker, worker):
    """A live server on the test database, started by hand: pytest-django's live_server flushes reference data."""
    with django_db_blocker.unblock():
        live = LiveServer("localhost")
        yield live
        live.stop()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """The real job worker (`manage.py procrastinate worker`, a subprocess) on the test database.

    Whatever a live server or a committed test queues (clustering of new pins) runs there, as in production.
    """
    with django_db_blocker.unblock():
        url = database_url()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, **WORKER_ENV, "DATABASE_URL": url}
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "procrastinate", "worker", "--fetch-job-polling-interval", "0.5"],
        cwd=root, env=env,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def live_server():
    raise RuntimeError(
        "use the `server` fixture: live_server's flush would wipe the session's reference data"
    )


@pytest.fixture
def transactional_db():
    raise RuntimeError(
        "use the `committed_db` fixture: transactional_db's flush would wipe the reference data"
    )


def _empty_volatile_tables() -> None:
    from carto.clustering import embeddings as e5

    existing = set(connection.introspection.table_names())
    tables = [t for t in VOLATILE_TABLES if t in existing]
    # A clustering job in hand locks the cluster tables in its statements' order: let the worker finish
    # it first (at most 15 s), then truncate; a deadlock left over is retried.
    deadline = time.monotonic() + 15
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
            if not cursor.fetchone()[0]:
                break
            time.sleep(0.1)
        # Cluster ids are never reused, as in production: the job worker (another process) keeps the
        # cluster means it has seen, and would take a new cluster for a former one with the same id.
        cursor.execute("SELECT last_value FROM carto_cluster_id_seq")
        (last_cluster,) = cursor.fetchone()
        for attempt in range(5):
            try:
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")  # noqa: S608 (fixed names)
                break
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        cursor.execute("SELECT setval('carto_cluster_id_seq', %s)", [last_cluster])
    e5.CACHE.reset()  # this process's cluster means (the live server's similar search reads them)


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits (several connections, threads, a live server); cleaned up after the test.

    pytest-django's transactional_db would flush every table, reference data included.
    """
    with django_db_blocker.unblock():
        _empty_volatile_tables()
        yield
        _empty_volatile_tables()


def _member(username: str, group: str | None) -> User:
    user = User.objects.create_user(username=username, password="correct horse battery staple")
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def resident(db) -> User:
    return _member("resident", "resident")


@pytest.fixture
def aidant(db) -> User:
    return _member("aidant", "aidant")


@pytest.fixture
def association(db) -> User:
    return _member("association", "association")


@pytest.fixture
def elected_official(db) -> User:
    return _member("elected", "elected_official")


@pytest.fixture
def moderator(db) -> User:
    return _member("moderator", "moderator")


@pytest.fixture
def data_dir():
    return settings.CARTO_DATA_DIR
