"""The map-data version: bumped after every write that changes what tiles and map groups show, read
(cached for VERSION_TTL) to key the tile caches."""

from __future__ import annotations

import time

from django.db import connection, transaction

# A worker re-reads the version at most once per VERSION_TTL seconds: a cache hit then costs no query.
# Another worker's write shows within that delay (tiles are public for MAX_AGE seconds anyway); this
# worker's own writes reset it at once.
VERSION_TTL = 1.0
_version_seen: tuple[int, float] | None = None


def map_version() -> int:
    """The current map-data version (a sequence: reading it takes no lock)."""
    global _version_seen
    now = time.monotonic()
    if _version_seen is not None and now - _version_seen[1] < VERSION_TTL:
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
