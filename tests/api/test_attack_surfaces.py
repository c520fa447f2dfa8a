"""The third attack pass: OPTIONS answers, the places search's hostile queries, the account export link."""

from __future__ import annotations

import inspect

import pytest
from django.urls import get_resolver

from tests.factories import make_pin

pytestmark = pytest.mark.django_db


def _drf_routes():
    """Every API route answered by a DRF view, as a path with ids filled in, and the view's class."""
    for pattern in get_resolver("api.urls").url_patterns:
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None or view_class.__module__.startswith("drf_spectacular"):
            continue  # the schema and its browser are drf-spectacular's
        route = str(pattern.pattern)
        for name in ("<int:pk>", "<str:code>", "<str:token>"):
            route = route.replace(name, "1" if "pk" in name else "x")
        yield f"/api/{route}", view_class


def test_options_answers_name_methods_and_media_types_but_never_a_views_docstring(client):
    make_pin()
    checked = 0
    for path, view_class in _drf_routes():
        response = client.options(path)
        if response.status_code != 200:  # signed-in routes refuse first (401), as for GET
            assert response.status_code in (401, 403, 404), path
            continue
        body = response.json()
        assert "description" not in body and "name" not in body, path
        doc = inspect.getdoc(view_class) or ""
        assert not doc or doc.splitlines()[0][:40] not in response.content.decode(), path
        assert {"renders", "parses"} <= set(body)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("q", ["%%", "%_%_" * 25, "\\\\", "--", "\u202e\u202e", "\u200b\u200b", "?!"])
def test_a_place_query_without_a_letter_or_digit_is_a_400_not_every_name(client, q):
    # Its search key is empty, which every name contains: it answered ten arbitrary places.
    response = client.get("/api/places/", {"q": q})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_query" and "q" in error["fields"]


def test_a_place_query_with_a_letter_among_symbols_still_searches(client):
    assert client.get("/api/places/", {"q": "%%belleville%%"}).json()["results"][0]["name"] == "Belleville"


def test_a_curator_cannot_split_a_hidden_pin_nor_learn_that_it_exists(association, moderator):
    from carto.models import AuditEntry, ClusterDecision, PinCluster
    from carto.services.clustering import cluster_assign
    from carto.services.moderation import pin_hide
    from tests.api.test_clusters import as_user
    from tests.factories import BONDY

    pins = [make_pin(text="Pas d'endroit pour imprimer mes papiers CAF dans le quartier"),
            make_pin(*BONDY, text="impossible d imprimer les documents caf, pas d imprimante chez moi")]  # fmt: skip
    for pin in pins:
        cluster_assign(pin)
    cluster = PinCluster.objects.get(pin=pins[0]).cluster_id
    assert PinCluster.objects.get(pin=pins[1]).cluster_id == cluster
    pin_hide(pin_id=pins[1].pk, actor=moderator, reason="Insulte")
    audited = AuditEntry.objects.count()
    split = f"/api/clusters/{cluster}/split/"
    hidden = as_user(association).post(split, {"pin": pins[1].pk, "reason": "x"}, format="json")
    missing = as_user(association).post(split, {"pin": 10**9, "reason": "x"}, format="json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert ClusterDecision.objects.count() == 0 and AuditEntry.objects.count() == audited


@pytest.mark.parametrize("method", ["post", "delete", "options", "put"])
@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/exports/pins.csv", "GET"),
        ("/api/exports/pins.geojson", "GET"),
        ("/api/tiles/pins/10/518/352.mvt", "GET"),
        ("/api/tiles/territories/10/518/352.mvt", "GET"),
        ("/api/tiles/orientation/10/518/352.mvt", "GET"),
        ("/api/basemap.pmtiles", "GET, HEAD"),
    ],
)
def test_the_plain_django_views_refuse_other_methods_in_the_one_error_shape(client, path, allow, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405 and response["Allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"  # it was an empty body


def test_an_account_export_links_token_is_in_no_log_line(client, resident, caplog):
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from config.gunicorn_logger import AccessFieldsLogger

    client.force_login(resident)
    url = client.get("/api/account/export/").json()["url"]
    path = url.removeprefix("http://testserver")
    token = path.removeprefix("/api/account/export/").strip("/")
    assert len(token) > 20
    # A signed-out click on the link (a 401: the security log names the path) ...
    client.logout()
    with caplog.at_level("WARNING", logger="carto.security"):
        assert client.get(path).status_code == 401
    refused = [r.getMessage() for r in caplog.records if "access_refused" in r.getMessage()]
    assert refused and all(token[:12] not in line for line in refused)
    assert "/api/account/export/<token>/" in refused[0]
    # ... and gunicorn's access line: the path, without its token.
    cfg = Config()
    cfg.set("accesslog", "-")
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "PATH_INFO": path}
    atoms = AccessFieldsLogger(cfg).atoms(
        SimpleNamespace(status="200 OK", sent=10), None, environ, dt.timedelta(microseconds=1)
    )
    assert atoms["U"] == "/api/account/export/<token>/" and token[:12] not in str(atoms)


def test_a_forged_read_your_writes_cookie_does_not_pin_a_clients_reads_to_the_primary(
    rf, monkeypatch, settings
):
    from django.http import HttpResponse

    from config import db_router

    monkeypatch.setattr(db_router, "replica_aliases", lambda: ["replica_0"])  # as with DATABASE_REPLICA_URLS
    middleware = db_router.PrimaryPinningMiddleware(lambda request: HttpResponse(status=201))
    # A far-future time of one's own making pinned every later read to the primary (it was a plain integer).
    forged = rf.get("/api/pins/")
    forged.COOKIES[db_router.COOKIE] = "99999999999"
    assert not middleware._recently_wrote(forged)
    # The cookie a real write gets does pin the next reads (the resident reads their own pin back).
    written = middleware(rf.post("/api/pins/"))
    after = rf.get("/api/pins/")
    after.COOKIES[db_router.COOKIE] = written.cookies[db_router.COOKIE].value
    assert middleware._recently_wrote(after)
    assert written.cookies[db_router.COOKIE]["httponly"] and not written.cookies[db_router.COOKIE]["secure"]
    settings.SESSION_COOKIE_SECURE = True  # CARTO_HTTPS
    assert middleware(rf.post("/api/pins/")).cookies[db_router.COOKIE]["secure"]


def test_a_status_change_without_a_workflow_role_is_refused_before_the_pin_is_read(client, resident):
    # It answered 404 for a held pin and 409 for a closed one first (and locked the pin's row to say so).
    held = make_pin(status="hidden")
    closed = make_pin(status="resolved")
    for pin, to in ((held, "acknowledged"), (closed, "acknowledged"), (make_pin(), "acknowledged")):
        url = f"/api/pins/{pin.pk}/status/"
        anonymous = client.post(url, {"to": to}, content_type="application/json")
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    client.force_login(resident)
    for pin in (held, closed):
        response = client.post(
            f"/api/pins/{pin.pk}/status/", {"to": "acknowledged"}, content_type="application/json"
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_allowed"


@pytest.mark.parametrize("op", ["hide", "restore", "redact"])
def test_moderation_without_the_role_answers_alike_for_a_held_pin_and_a_missing_one(client, resident, op):
    # A held pin answered 401/403 where a missing id was 404: an oracle on which ids are held.
    held = make_pin(status="pending")
    body = {"reason": "x", "text": "y"} if op == "redact" else {"reason": "x"}
    for user in (None, resident):
        if user:
            client.force_login(user)
        answers = [
            client.post(f"/api/moderation/pins/{pk}/{op}/", body, content_type="application/json")
            for pk in (held.pk, 10**9)
        ]
        assert answers[0].status_code == answers[1].status_code == (403 if user else 401)
        assert answers[0].json() == answers[1].json()
    missing_comment = client.post(
        "/api/moderation/comments/999999/hide/", {"reason": "x"}, content_type="application/json"
    )
    assert missing_comment.status_code == 403
