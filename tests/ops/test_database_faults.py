"""With PostgreSQL unreachable the API answers 503 in the one error shape, fast, and recovers by itself.

The outage is real: the app talks to PostgreSQL through a small TCP relay that the test switches off
(connections refused, live ones cut) and on again, without restarting anything.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError, close_old_connections, connections
from django.test import Client as DjangoClient

# Every API endpoint that reads or writes the database (schema and docs are static).
API_REQUESTS = [
    ("get", "/api/themes/"),
    ("get", "/api/territories/?kind=commune"),
    ("get", "/api/territories/75056/"),
    ("get", "/api/actors/?bbox=2.35,48.85,2.40,48.88"),
    ("get", "/api/actors/export.csv"),
    ("get", "/api/pins/?bbox=2.35,48.85,2.40,48.88"),
    ("get", "/api/pins/1/"),
    ("get", "/api/tiles/pins/12/2075/1409.mvt"),
    ("post", "/api/pins/"),
]


NEW_PIN = {
    "client_uuid": "6f1c1f3e-8a53-4c1e-9a39-2b1f7f0e5c11",
    "kind": "need",
    "theme": "acceder-droits",
    "text": "Pas d'endroit pour imprimer mes papiers CAF",
    "lat": 48.8700,  # Belleville, Paris 20e
    "lon": 2.3790,
}


class Client(DjangoClient):
    """The test client, with the connection life cycle of a real server.

    Django's test client unhooks `close_old_connections` from request_started/request_finished (to keep
    the test transaction); gunicorn does not, and that hook (with CONN_HEALTH_CHECKS) is what replaces a
    broken connection. Put it back around each request.
    """

    def request(self, **request):
        close_old_connections()
        try:
            return super().request(**request)
        finally:
            close_old_connections()


class Relay:
    """A TCP relay to the real PostgreSQL that can be switched off (refuses and cuts) and on again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.live: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self) -> None:
        """Like a stopped server: new connections are refused and the open ones are cut."""
        if self.listener is not None:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread, frees the port
            self.listener.close()
            self.listener = None
        for sock in self.live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.live.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.live += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay(django_db_setup, django_db_blocker) -> Iterator[Relay]:
    """The default database reached through a relay (no test transaction: the connection must really drop)."""
    settings_dict = connections["default"].settings_dict
    saved = {key: settings_dict[key] for key in ("HOST", "PORT", "OPTIONS")}
    relay = Relay((saved["HOST"] or "127.0.0.1", int(saved["PORT"] or 5432)))
    with django_db_blocker.unblock():
        connections["default"].close()
        settings_dict.update(HOST="127.0.0.1", PORT=str(relay.port), OPTIONS=dict(saved["OPTIONS"]))
        try:
            yield relay
        finally:
            relay.down()
            connections["default"].close()
            settings_dict.update(saved)


def _send(client: Client, method: str, path: str):
    if method == "post":
        return client.post(path, data=NEW_PIN, content_type="application/json")
    return client.get(path)


def test_every_api_request_answers_503_in_the_error_shape_when_the_database_is_down(relay):
    client = Client()
    assert client.get("/api/themes/").status_code == 200
    relay.down()
    for method, path in API_REQUESTS:
        response = _send(client, method, path)
        assert response.status_code == 503, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "service_unavailable", path
        assert response["Retry-After"] == "5"


def test_an_unresponsive_database_server_fails_within_the_connect_timeout(relay):
    # A server that accepts TCP and never answers (a hung host): only connect_timeout bounds the wait.
    silent = socket.create_server(("127.0.0.1", 0))
    settings_dict = connections["default"].settings_dict
    settings_dict.update(PORT=str(silent.getsockname()[1]))
    settings_dict["OPTIONS"]["connect_timeout"] = 1
    try:
        started = time.monotonic()
        response = Client().get("/api/themes/")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert elapsed < 5, f"the request waited {elapsed:.1f} s"


def test_liveness_stays_up_and_readiness_goes_down_with_the_database(relay):
    client = Client()
    assert client.get("/readyz").status_code == 200
    relay.down()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] is False


def test_pages_show_a_friendly_message_when_the_database_is_down(relay):
    relay.down()
    client = Client(raise_request_exception=False)
    # A session cookie makes the page read the database (the session), as a returning visitor's would.
    client.cookies["sessionid"] = "0" * 32
    response = client.get("/")
    assert response.status_code == 503
    assert "momentanément indisponible" in response.content.decode()


def test_the_service_recovers_by_itself_when_the_database_comes_back(relay):
    client = Client()
    assert client.get("/api/themes/").status_code == 200
    relay.down()
    assert client.get("/api/themes/").status_code == 503
    relay.up()
    # No restart, no manual reconnect: the failed connection was discarded, the next request opens one.
    assert client.get("/api/themes/").status_code == 200
    assert client.get("/readyz").json()["database"] is True


def test_a_runaway_query_is_cancelled_by_the_statement_timeout(django_db_setup, django_db_blocker):
    configured = connections["default"].settings_dict
    assert "statement_timeout" in configured["OPTIONS"]["options"]
    # A second connection with exactly the configured options, the timeout lowered to keep the test short.
    options = dict(configured["OPTIONS"], options="-c statement_timeout=200")
    wrapper = connections["default"].__class__(dict(configured, OPTIONS=options), alias="timeout_probe")
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                assert cursor.fetchone()[0] == "200ms"
                with pytest.raises(OperationalError, match="statement timeout"):
                    cursor.execute("SELECT pg_sleep(5)")
        finally:
            wrapper.close()


def test_the_default_statement_timeout_applies_to_the_app_connection(db):
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "15s"
