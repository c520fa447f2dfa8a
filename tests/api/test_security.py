"""Hardening: check --deploy, security headers, no-store, login lock-out, error bodies without internals."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token

from api.security import KNOWN_DEVICE_COOKIE, content_security_policy
from carto.models import Pin
from carto.services import lockout
from tests.factories import make_pin

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def test_production_settings_pass_check_deploy_with_no_warning():
    alphabet = string.ascii_letters + string.digits + "!@%^*-_=+"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "CARTO_HTTPS": "true",
        "DJANGO_ALLOWED_HOSTS": "carto.example.org",
    }
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright's loop; production never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_answer_carries_a_strict_csp_and_the_usual_headers(client, db):
    for path in ("/", "/api/themes/", "/open311/v2/services.json"):
        response = client.get(path)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self';" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "worker-src 'self' blob:" in csp  # MapLibre's workers
        assert "frame-ancestors 'none'" in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


def test_an_external_basemap_origin_is_allowed_for_images_and_fetches_only():
    csp = content_security_policy("https://tiles.example.net/styles/basic/style.json?key=x")
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert "https://tiles.example.net" in directives["img-src"]
    assert "https://tiles.example.net" in directives["connect-src"]
    assert "tiles.example.net" not in directives["script-src"]
    assert "key=x" not in csp


def test_anonymous_public_answers_may_be_cached(client, db):
    assert "no-store" not in client.get("/api/themes/").get("Cache-Control", "")


def test_answers_to_a_signed_in_session_are_no_store(client, resident):
    client.force_login(resident)
    assert client.get("/api/themes/")["Cache-Control"] == "no-store"
    assert client.get("/")["Cache-Control"] == "no-store"


def test_answers_to_a_token_client_are_no_store(client, resident):
    token = Token.objects.create(user=resident)
    response = client.get("/api/account/export/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def _login(username: str, password: str, ip: str = "192.0.2.10"):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip)
    return authenticate(request, username=username, password=password)


def test_login_is_locked_after_repeated_failures_even_with_the_right_password(resident, settings):
    settings.CARTO_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert _login("resident", "wrong") is None
    assert _login("resident", PASSWORD) is None
    # Rotating addresses does not help the guesser: the username is locked from everywhere.
    assert _login("resident", PASSWORD, ip="198.51.100.7") is None


def test_a_network_spraying_passwords_over_many_usernames_is_refused_but_others_are_not(resident, settings):
    settings.CARTO_LOGIN_NETWORK_MAX_FAILURES = 6
    # Two guesses on each of three accounts: under every account's own limit (5), at the network's.
    for name in ("alice", "bob", "carol"):
        for guess in ("123456", "azerty"):
            assert _login(name, guess, ip="203.0.113.9") is None
    # The right password from that network is refused now; from another address it is accepted.
    assert _login("resident", PASSWORD, ip="203.0.113.9") is None
    assert _login("resident", PASSWORD, ip="198.51.100.7") == resident
    # An IPv6 sprayer cannot spread over its /64.
    for n in range(6):
        assert _login(f"user{n}", "wrong", ip=f"2001:db8::{n + 1}") is None
    assert _login("resident", PASSWORD, ip="2001:db8::ffff") is None


def test_attempts_during_the_lock_extend_it_and_it_ends_when_they_stop(resident, settings):
    import datetime as dt

    from django.utils import timezone

    settings.CARTO_LOGIN_MAX_FAILURES = 3
    settings.CARTO_LOGIN_LOCKOUT_SECONDS = 600
    for _ in range(3):
        _login("resident", "wrong")
    for _ in range(4):  # still guessing while locked: counted, the lock holds
        assert _login("resident", "guess", ip="203.0.113.9") is None
    assert lockout.login_failures(username="resident", ip="") == 7
    later = timezone.now() + dt.timedelta(seconds=2 * 600 + 1)
    assert not lockout.login_is_locked(username="resident", ip="", now=later)


def test_a_successful_login_forgets_earlier_failures(resident, settings):
    settings.CARTO_LOGIN_MAX_FAILURES = 3
    _login("resident", "wrong")
    _login("resident", "wrong")
    assert _login("resident", PASSWORD) == resident
    assert lockout.login_failures(username="resident", ip="192.0.2.10") == 0


def test_the_login_page_is_locked_out_too(client, resident, settings):
    settings.CARTO_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "resident", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "resident", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in client.session


def _page_login(client: Client, username: str, password: str, ip: str) -> bool:
    client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)
    signed_in = "_auth_user_id" in client.session
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)  # signed out; the browser's other cookies stay
    return signed_in


def test_a_device_that_signed_in_before_is_not_locked_out_by_someone_guessing_elsewhere(resident, settings):
    settings.CARTO_LOGIN_MAX_FAILURES = 3
    settings.CARTO_LOGIN_NETWORK_MAX_FAILURES = 3
    phone, attacker = Client(), Client()
    assert _page_login(phone, "resident", PASSWORD, ip="192.0.2.10")
    cookie = phone.cookies[KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and "resident" not in cookie.value
    # Someone guesses from another address (the phone's too: a shared mobile address): the username is locked
    # for every unknown device, even with the right password, and that address is a sprayer now...
    for _ in range(5):
        assert not _page_login(attacker, "resident", "guess", ip="192.0.2.10")
    assert not _page_login(attacker, "resident", PASSWORD, ip="198.51.100.7")
    assert not _page_login(Client(), "resident", PASSWORD, ip="192.0.2.10")
    tampered = Client()
    tampered.cookies[KNOWN_DEVICE_COOKIE] = cookie.value[:-2] + ("xx" if cookie.value[-2:] != "xx" else "yy")
    assert not _page_login(tampered, "resident", PASSWORD, ip="198.51.100.7")
    # ...but the owner's phone signs in, and doing so does not release the lock the guessing holds.
    assert _page_login(phone, "resident", PASSWORD, ip="192.0.2.10")
    assert not _page_login(attacker, "resident", PASSWORD, ip="198.51.100.7")


def test_a_known_device_token_counts_its_own_guesses_and_names_one_username(resident, settings):
    settings.CARTO_LOGIN_MAX_FAILURES = 3
    phone = Client()
    assert _page_login(phone, "resident", PASSWORD, ip="192.0.2.10")
    # A stolen token gives N guesses, not more: then that device is locked too.
    for _ in range(3):
        assert not _page_login(phone, "resident", "guess", ip="192.0.2.10")
    assert not _page_login(phone, "resident", PASSWORD, ip="192.0.2.10")
    # The token is for its username only: another account locked by guessing stays locked from this phone.
    User.objects.create_user("other", password=PASSWORD)
    for _ in range(3):
        assert not _page_login(Client(), "other", "guess", ip="203.0.113.9")
    assert not _page_login(phone, "other", PASSWORD, ip="192.0.2.10")


def test_lockout_counters_hold_no_username_or_address(resident):
    from carto.models import WriteCounter

    _login("resident", "wrong")
    keys = list(WriteCounter.objects.values_list("key", flat=True))
    assert keys and all("resident" not in key and "192.0.2" not in key for key in keys)


def test_security_log_lines_are_json_without_personal_data(resident, caplog):
    with caplog.at_level("WARNING", logger="carto.security"):
        _login("resident", "wrong")
    [record] = [r for r in caplog.records if r.name == "carto.security"]
    assert '"event": "login_failed"' in record.getMessage()
    assert "resident" not in record.getMessage() and "192.0.2" not in record.getMessage()


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("post", "/api/pins/", "{not json"),
        ("post", "/api/pins/", '{"text": "\\u0000", "kind": "need", "theme": "x", "lat": 1e999, "lon": 2}'),
        ("get", "/api/pins/?bbox=1,2,3", None),
        ("get", "/api/pins/?page=99999999999999999999", None),
        ("get", "/api/pins/99999999999999999999/", None),
        ("get", "/api/territories/%00/", None),
        ("get", "/api/tiles/pins/99/1/1.mvt", None),
        ("get", "/api/account/export/garbage/", None),
    ],
)
def test_error_bodies_never_show_a_trace_or_sql(client, db, method, path, body):
    kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code < 500
    text = response.content.decode("utf-8", "replace")
    for leak in ("Traceback", "SELECT", "psycopg", "django.db", 'File "', "carto_pin"):
        assert leak not in text


def test_an_unexpected_exception_under_the_api_is_a_bare_json_500(client, db, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM carto_pin")

    monkeypatch.setattr("api.views.themes.ThemeListView.get", boom)
    client.raise_request_exception = False
    response = client.get("/api/themes/")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "Unexpected server error.", "fields": {}}
    }


def test_the_api_docs_get_inline_styles_and_nothing_else_does(client):
    docs = client.get("/api/docs/")["Content-Security-Policy"]
    page = client.get("/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in docs and "script-src 'self';" in docs
    assert "unsafe-inline" not in page


@pytest.mark.parametrize("hosts", ["carto.example.org", "*"])
def test_the_public_development_key_is_refused_for_a_site_served_beyond_loopback(hosts):
    # The key seeds the keyed device and IP hashes and the location blur: with the key in the repository,
    # anyone could undo the blur of every pin. `check --deploy` alone took it (57 varied characters).
    env = {**os.environ, "DJANGO_DEBUG": "false", "CARTO_HTTPS": "true", "DJANGO_ALLOWED_HOSTS": hosts}
    for name in ("DJANGO_SECRET_KEY", "CARTO_BLUR_SECRET", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_development_key_still_serves_loopback():
    env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,[::1]"}
    env.pop("DJANGO_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_a_session_write_without_the_csrf_token_is_refused_and_changes_nothing(moderator):
    pin = make_pin()
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    path = f"/api/moderation/pins/{pin.pk}/hide/"
    refused = client.post(path, {"reason": "spam"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert Pin.objects.get(pk=pin.pk).status == Pin.Status.RECEIVED
    client.get("/moderation/")  # the page sets the CSRF cookie that api.js sends back
    token = client.cookies["csrftoken"].value
    done = client.post(path, {"reason": "spam"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 200
    assert Pin.objects.get(pk=pin.pk).status == Pin.Status.HIDDEN
