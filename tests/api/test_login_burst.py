"""Attack pass: the login lock-out holds against a burst of concurrent guesses (each request checked the
lock before any of them had counted its failure, so a burst got as many password checks as it sent)."""

from __future__ import annotations

import threading

from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory

BURST = 8


def test_a_burst_of_concurrent_guesses_gets_no_more_password_checks_than_the_limit(
    committed_db, settings, monkeypatch
):
    settings.CARTO_LOGIN_MAX_FAILURES = 3
    User.objects.create_user("burst", password="the right one")
    state = threading.Condition()
    counts = {"checked": 0, "finished": 0}
    release = threading.Event()

    def slow_check(self, request, username=None, password=None, **kwargs):
        # Hashing a password takes a while in production (PBKDF2): every guess of the burst is in here at once.
        with state:
            counts["checked"] += 1
            state.notify_all()
        release.wait(timeout=60)
        return None

    monkeypatch.setattr(ModelBackend, "authenticate", slow_check)

    def guess(n: int) -> None:
        try:
            request = RequestFactory().post("/api/auth/token/", REMOTE_ADDR=f"192.0.2.{n + 1}")
            assert authenticate(request, username="burst", password=f"guess {n}") is None
        finally:
            connection.close()
            with state:
                counts["finished"] += 1
                state.notify_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    with state:  # every guess is either refused or waiting in the password check
        state.wait_for(lambda: counts["checked"] + counts["finished"] == BURST, timeout=60)
    release.set()
    for thread in threads:
        thread.join()
    assert counts["checked"] == settings.CARTO_LOGIN_MAX_FAILURES
