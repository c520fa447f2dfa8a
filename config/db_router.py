"""Reads on the streaming replicas, writes and the reads that must see them on the primary.

A request is "pinned to the primary" when it writes (any method but GET/HEAD/OPTIONS), when it comes from a
client that wrote a few seconds ago (cookie `carto_primary_until`, set after a successful write: a resident
reads their own pin back at once, whatever the replication lag), or when its path is a curator screen.
Inside a transaction on the primary every read stays there too (select_for_update, read-then-write).
With no DATABASE_REPLICA_URLS there is no replica alias and everything goes to "default".
"""

from __future__ import annotations

import random
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

COOKIE = "carto_primary_until"
# Signed with its time: a client could otherwise send a far-future value and pin every read it makes to the
# primary, the one database that takes the writes (the replicas are there to spare it).
_COOKIE_SALT = "carto.primary-until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_pinned: ContextVar[bool] = ContextVar("carto_pinned_to_primary", default=False)


def replica_aliases() -> list[str]:
    """The configured replica aliases (replica_0, replica_1…), from DATABASE_REPLICA_URLS."""
    return [alias for alias in connections.settings if alias.startswith("replica_")]


def pinned_to_primary() -> bool:
    return _pinned.get()


class PrimaryReplicaRouter:
    """Django database router: see the module docstring."""

    def db_for_read(self, model, **hints) -> str:
        if _pinned.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        replicas = replica_aliases()
        # Replicas are interchangeable: a random pick spreads the load without shared state.
        return random.choice(replicas) if replicas else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Every alias holds the same rows (physical replication).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class PrimaryPinningMiddleware:
    """Pin a request to the primary when it writes, follows a recent write, or is a curator screen."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        writes = request.method not in SAFE_METHODS
        pinned = writes or self._recently_wrote(request) or self._primary_path(request.path)
        token = _pinned.set(pinned)
        try:
            response = self.get_response(request)
        finally:
            _pinned.reset(token)
        if writes and response.status_code < 400:
            seconds = settings.CARTO_READ_YOUR_WRITES_SECONDS
            response.set_signed_cookie(
                COOKIE, "1", salt=_COOKIE_SALT, max_age=seconds, httponly=True, samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )  # fmt: skip
        return response

    @staticmethod
    def _recently_wrote(request) -> bool:
        max_age = settings.CARTO_READ_YOUR_WRITES_SECONDS
        return request.get_signed_cookie(COOKIE, default=None, salt=_COOKIE_SALT, max_age=max_age) is not None

    @staticmethod
    def _primary_path(path: str) -> bool:
        return any(path.startswith(prefix) for prefix in settings.CARTO_PRIMARY_PATHS)
