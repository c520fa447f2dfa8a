"""The map-data version: bumped after every write that changes what tiles and map groups show, read
(cached for VERSION_TTL) to key the tile and statistics caches."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

T = TypeVar("T")

# A worker re-reads the version at most once per VERSION_TTL seconds: a cache hit then costs no query.
# Another worker's write shows within that delay (tiles are public for MAX_AGE seconds anyway); this
# worker's own writes reset it at once.
VERSION_TTL = 1.0
_version_seen: tuple[int, float] | None = None


def map_version(*, fresh: bool = False) -> int:
    """The current map-data version (a sequence: reading it takes no lock); `fresh`: read it now."""
    global _version_seen
    now = time.monotonic()
    if not fresh and _version_seen is not None and now - _version_seen[1] < VERSION_TTL:
        return _version_seen[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM carto_map_version_seq")
        version = cursor.fetchone()[0]
    _version_seen = (version, now)
    return version


def _bump() -> None:
    global _version_seen
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('carto_map_version_seq')")
    _version_seen = None


def map_version_bump() -> None:
    """Bump the version once the current transaction commits.

    After commit, not before: a reader seeing the new version must also see the new rows, or it would
    cache stale tiles under the new key. Robust: the rows are committed by then, so a failed bump (the
    connection dropped) is logged, never raised into a request whose write succeeded.
    """
    transaction.on_commit(_bump, robust=True)


def cached_by_map_version(key: str, build: Callable[[], T]) -> T:
    """`build()`, kept in the cache under `key` for the current map version (CARTO_STATS_CACHE_SECONDS at most).

    For answers computed from visible pins only (counts, supports, places): every write that changes them
    bumps the version, so a new version is a new key and a stale answer is never read.
    """
    seconds = settings.CARTO_STATS_CACHE_SECONDS
    if not seconds:
        return build()
    cache_key = "stats:" + hashlib.blake2b(f"{map_version()}:{key}".encode(), digest_size=12).hexdigest()
    value = cache.get(cache_key)
    if value is None:
        value = build()
        cache.set(cache_key, value, seconds)
    return value
