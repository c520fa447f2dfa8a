"""Login lock-out: after N failed sign-ins for one username, from any address, refuse it for a while.

Per username, not per (username, address): an attacker rotating addresses got the right password in
from a fresh one. Back-off: an attempt while locked counts as a failure, so the lock lasts as long as
the guessing goes on (two windows of CARTO_LOGIN_LOCKOUT_SECONDS after the last attempt).

Known devices (OWASP's "device cookies"): a browser that signed in to this username before carries a signed
token naming a device (api.security); its attempts are counted on their own counter with the same limit. So
someone guessing from elsewhere locks the username for unknown devices only: the owner still signs in from
their own phone, and a stolen token still allows only N guesses.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone

from carto.models import WriteCounter
from carto.services.privacy import keyed_hash

# Same atomic upsert as the write throttles (carto.services.abuse), on a window of the lock-out length.
_FAIL_SQL = """
INSERT INTO carto_writecounter (key, window_start, count) VALUES (%s, %s, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = carto_writecounter.count + 1
RETURNING count
"""


def username_key(username: str) -> str:
    """A username as the counters (and a known device's token) hold it: a keyed hash, never the name."""
    return keyed_hash(username.strip().lower(), purpose="login-user")


def _key(username: str, ip: str = "", device: str = "") -> str:
    # (`ip` is kept for the callers' logs.) A known device has its own counter (see the module's doc).
    return f"login:{username_key(username)}" + (f":{device}" if device else "")


def _windows(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The current fixed window and the one before (counting both makes the limit hold across a boundary)."""
    length = settings.CARTO_LOGIN_LOCKOUT_SECONDS
    start = int(now.timestamp()) // length * length
    current = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    return current, current - dt.timedelta(seconds=length)


def login_failures(*, username: str, ip: str, device: str = "", now: dt.datetime | None = None) -> int:
    """Failed sign-ins for this username (from any address; from `device` if known) in the current and previous
    windows."""
    current, previous = _windows(now or timezone.now())
    rows = WriteCounter.objects.filter(key=_key(username, ip, device), window_start__in=[current, previous])
    return sum(rows.values_list("count", flat=True))


def login_is_locked(*, username: str, ip: str, device: str = "", now: dt.datetime | None = None) -> bool:
    """True when this username may not sign in right now (from any address; from `device` if known)."""
    return (
        login_failures(username=username, ip=ip, device=device, now=now) >= settings.CARTO_LOGIN_MAX_FAILURES
    )


def login_failure_record(*, username: str, ip: str, device: str = "", now: dt.datetime | None = None) -> int:
    """Count one failed sign-in (atomic across processes); returns the failures in the current window."""
    current, _ = _windows(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_FAIL_SQL, [_key(username, ip, device), current])
        return cursor.fetchone()[0]


def login_attempt_allowed(
    *, username: str, ip: str, device: str = "", now: dt.datetime | None = None
) -> bool:
    """Count this attempt as a failure before its password is checked, and say whether it is still within
    CARTO_LOGIN_MAX_FAILURES (a success then forgets it: login_success_reset).

    Counting first, in one atomic upsert, gives each of a burst of concurrent guesses its own number:
    checking the lock first let them all through before any had counted its failure.
    """
    now = now or timezone.now()
    _, previous = _windows(now)
    count = login_failure_record(username=username, ip=ip, device=device, now=now)
    earlier = WriteCounter.objects.filter(key=_key(username, ip, device), window_start=previous)
    return count + sum(earlier.values_list("count", flat=True)) <= settings.CARTO_LOGIN_MAX_FAILURES


def _network_key(network: str) -> str:
    return f"login-net:{network}"


def network_failures(*, network: str, now: dt.datetime | None = None) -> int:
    """Failed sign-ins from this network (keyed hash of an address or IPv6 /64), any username, in the current
    and previous windows."""
    current, previous = _windows(now or timezone.now())
    rows = WriteCounter.objects.filter(key=_network_key(network), window_start__in=[current, previous])
    return sum(rows.values_list("count", flat=True))


def network_is_spraying(*, network: str, now: dt.datetime | None = None) -> bool:
    """True when this network failed more sign-ins, over any usernames, than CARTO_LOGIN_NETWORK_MAX_FAILURES:
    the per-username lock-out lets a sprayer try a few passwords on every account; this stops the sprayer,
    not the accounts (a centre social behind one address signs in far less often than that)."""
    return network_failures(network=network, now=now) >= settings.CARTO_LOGIN_NETWORK_MAX_FAILURES


def network_failure_record(*, network: str, now: dt.datetime | None = None) -> None:
    """Count one failed sign-in from this network."""
    current, _ = _windows(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_FAIL_SQL, [_network_key(network), current])


def login_success_reset(*, username: str, ip: str, device: str = "") -> None:
    """A successful sign-in forgets the earlier failures it was counted with (a known device's own, or the
    username's: a success on the owner's phone does not release a lock that someone else's guessing holds)."""
    WriteCounter.objects.filter(key=_key(username, ip, device)).delete()
