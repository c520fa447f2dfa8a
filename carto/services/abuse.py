"""Anti-abuse, layered: write throttles shared by every worker, a simple spam score, pre-moderation."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from carto.errors import DomainError
from carto.models import Pin

WINDOW = dt.timedelta(hours=1)
# A pin scoring this much or more waits for a moderator instead of going on the public map.
SPAM_THRESHOLD = 1.0

_LINK_RE = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|net|org|fr|ru|io|xyz|info|biz)\b)", re.IGNORECASE)
_REPEATED_CHAR_RE = re.compile(r"(.)\1{5,}", re.DOTALL)
_WORD_RE = re.compile(r"\w+", re.UNICODE)

# The counting itself is the SQL function carto_writes_count (carto/sql/carto_writes_count.sql): one
# statement, so that two workers counting the same window never both read the old value, several keys in one
# round trip, with the previous window's counts beside them (the sliding estimate below). A pin's write
# counts in its preflight (carto_pin_preflight), through the same function.
_COUNT_SQL = """
SELECT key, current, previous
FROM carto_writes_count(%(keys)s::varchar[], %(start)s, %(previous)s)
"""

# A device is new until 24 hours after its first pin (is_new_device; carto_pin_preflight is given it).
NEW_DEVICE_WINDOW = dt.timedelta(hours=24)


class Throttled(DomainError):
    """Too many writes in the last hour; `retry_after` is in seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__("throttled", message)
        self.retry_after = retry_after


def _window_start(now: dt.datetime) -> dt.datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def window_starts(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The current hourly window's start and the previous one's, as the counters store them."""
    start = _window_start(now)
    return start, start - WINDOW


@dataclass(frozen=True)
class Hits:
    """A key's writes in the current hourly window and in the one before."""

    current: int
    previous: int

    def sliding(self, elapsed: float) -> float:
        """Writes in the last hour, estimated: the previous window weighted by the part of it still
        within the hour (`elapsed` = share of the current window gone, 0..1)."""
        return self.current + self.previous * (1.0 - elapsed)

    def retry_after(self, limit: int, elapsed: float) -> int:
        """Seconds until the estimate is back under `limit`, if no more writes come."""
        window = WINDOW.total_seconds()
        if self.current <= limit:  # the previous window's weight has to fade
            needed = 1.0 - (limit - self.current) / self.previous if self.previous else elapsed
            return max(1, int((needed - elapsed) * window) + 1)
        # Wait for the next window, then for this one's weight to leave room for one write (the refused
        # write is rolled back: this window keeps current - 1).
        kept = self.current - 1
        return int((1.0 - elapsed) * window + (1.0 - (limit - 1) / kept) * window) + 1


def counters_hit(keys: list[str], *, now: dt.datetime | None = None) -> dict[str, Hits]:
    """Add one write to each key in the current hour; return its counts (atomic across processes)."""
    start, previous = window_starts(now or timezone.now())
    # Sorted keys (the SQL function sorts them again): two transactions lock the rows in the same order.
    keys = sorted({key[:100] for key in keys})
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, {"start": start, "keys": keys, "previous": previous})
        return {key: Hits(current, previous) for key, current, previous in cursor.fetchall()}


def throttle(
    limits: dict[str, int | None], message: str, *, now: dt.datetime | None = None
) -> dict[str, float]:
    """Count one write on each key; raise Throttled when any key passes its hourly limit (None: no
    limit); return each key's writes in the last hour.

    A sliding hour (the previous window weighted), not a clock hour: a burst at 10:59 and another at
    11:00 count together, and Retry-After says when this key is under its limit again, not "the top of
    the hour". Call it inside the write's transaction: a refusal rolls back the write and the counts.
    """
    now = now or timezone.now()
    return _judged(limits, counters_hit(list(limits), now=now), message, now=now)


def _judged(
    limits: dict[str, int | None], hits: dict[str, Hits], message: str, *, now: dt.datetime
) -> dict[str, float]:
    """Raise Throttled when a counted key is past its limit; else each key's writes in the last hour."""
    elapsed = (now - _window_start(now)).total_seconds() / WINDOW.total_seconds()
    over = [
        hits[key[:100]].retry_after(limit, elapsed)
        for key, limit in limits.items()
        if limit is not None and hits[key[:100]].sliding(elapsed) > limit
    ]
    if over:
        raise Throttled(message, retry_after=max(over))
    # A key without a limit is only counted: its caller reads the last hour's estimate.
    return {key: hits[key[:100]].sliding(elapsed) for key in limits}


AREA_KEY = "pin:area:"  # + the commune's id
NEW_DEVICE_KEY = "pin:new-device:"  # + the network's IP hash


def _write_limits(*, device_hash: str, ip_hash: str, commune_id: int | None) -> dict[str, int | None]:
    limits: dict[str, int | None] = {
        f"pin:device:{device_hash}": settings.CARTO_THROTTLE_DEVICE_PER_HOUR,
        f"pin:ip:{ip_hash}": settings.CARTO_THROTTLE_IP_PER_HOUR,
        f"{AREA_KEY}{commune_id}": settings.CARTO_THROTTLE_AREA_PER_HOUR,
    }
    present = {"device": device_hash, "ip": ip_hash, "area": commune_id}
    return {key: limit for key, limit in limits.items() if present[key.split(":")[1]]}


@dataclass(frozen=True)
class WriteKeys:
    """What a pin write counts, known before the pin is placed: the device and network keys, the commune
    key's prefix (the preflight appends the id it places the pin in) and the network's new-device key (the
    preflight counts it only for a new device)."""

    keys: list[str]
    area: str
    new_device: str | None


def pin_write_keys(*, device_hash: str, ip_hash: str, anonymous: bool) -> WriteKeys:
    """The counters of throttle_writes, for pin_create's preflight to count in its own round trip."""
    keys = [key[:100] for key in _write_limits(device_hash=device_hash, ip_hash=ip_hash, commune_id=None)]
    new_device = f"{NEW_DEVICE_KEY}{ip_hash}"[:100] if anonymous and ip_hash else None
    return WriteKeys(keys=keys, area=AREA_KEY, new_device=new_device)


def throttle_writes(
    *,
    device_hash: str,
    ip_hash: str,
    commune_id: int | None,
    new_device: bool = False,
    hits: dict[str, Hits] | None = None,
    now: dt.datetime | None = None,
) -> float:
    """Count one pin write per device, IP hash and commune; raise Throttled past any hourly limit.
    Returns the pins from new devices on this network in the last hour (when this one is new).

    With `hits`, the counts were already taken (pin_create's preflight counts pin_write_keys in its
    round trip, with the same `now`) and are only judged here. Called inside the pin's transaction: a
    refused write rolls its own increments back, and the counter rows stay locked only until that short
    transaction ends.
    """
    now = now or timezone.now()
    limits = _write_limits(device_hash=device_hash, ip_hash=ip_hash, commune_id=commune_id)
    fresh = f"{NEW_DEVICE_KEY}{ip_hash}"
    if new_device and ip_hash:  # counted in the same round trip, read by initial_status
        limits[fresh] = None
    message = "Too many pins sent from here recently; please try again later."
    if hits is None:
        counts = throttle(limits, message, now=now)
    else:
        if {key[:100] for key in limits} != set(hits):
            raise RuntimeError(f"the preflight counted {sorted(hits)}, not {sorted(limits)}")
        counts = _judged(limits, hits, message, now=now)
    return counts.get(fresh, 0.0)


def throttle_network_on_pin(*, action: str, ip_hash: str, pin_id: int, limit: int) -> None:
    """Count one `action` ("support", "flag") from one network (IP hash) on one pin in the current hour;
    raise Throttled past `limit`. Call it in the action's transaction, after a new row was written:
    a refusal rolls both back.

    One network, not one device: rotating X-Device-Token values gave 40 supports from one IP. The bound
    is per pin and per hour, so residents behind one mobile carrier's NAT (thousands on one address) are
    only held back when more than `limit` of them say "moi aussi" to the same pin within the hour; the
    others can in the next hour.
    """
    if ip_hash:
        throttle(
            {f"{action}:ip:{ip_hash[:32]}:pin:{pin_id}": limit},
            "Too many of these from your network on this pin; please try again later.",
        )


@dataclass(frozen=True)
class DeviceHistory:
    first_pin_at: dt.datetime | None = None
    pins: int = 0
    same_text: int = 0


def device_history(device_hash: str, text: str) -> DeviceHistory:
    """What a device already sent (one query on the device_hash index): its first pin, count, same-text pins."""
    if not device_hash:
        return DeviceHistory()
    stats = Pin.objects.filter(device_hash=device_hash).aggregate(
        first=Min("created_at"), n=Count("id"), same=Count("id", filter=Q(text=text.strip()))
    )
    return DeviceHistory(first_pin_at=stats["first"], pins=stats["n"], same_text=stats["same"])


def spam_score(text: str, *, history: DeviceHistory | None = None) -> float:
    """A simple additive score: links, long runs of one character, repeated words, all caps, re-sent text."""
    score = 0.0
    links = len(_LINK_RE.findall(text))
    score += min(links * 0.6, 1.2)
    # Each weak signal alone stays below the threshold; two together cross it.
    if _REPEATED_CHAR_RE.search(text):
        score += 0.5
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if len(words) >= 6 and len(set(words)) / len(words) < 0.35:
        score += 0.5
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        score += 0.5
    if history is not None and history.same_text:
        score += 0.6
    return round(score, 2)


def is_trusted(user: User | None) -> bool:
    """Aidants and staff are accountable people: their pins are never pre-moderated."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.groups.filter(name="aidant").exists()


def new_device_over_limit(history: DeviceHistory, *, now: dt.datetime | None = None) -> bool:
    """True when an anonymous device already sent the allowed number of pins in its first 24 hours."""
    if history.first_pin_at is None or (now or timezone.now()) - history.first_pin_at > NEW_DEVICE_WINDOW:
        return False
    return history.pins >= settings.CARTO_PREMODERATION_NEW_DEVICE_PINS


def is_new_device(history: DeviceHistory, *, now: dt.datetime | None = None) -> bool:
    """A device with no pin yet, or whose first pin is less than 24 hours old."""
    return history.first_pin_at is None or (now or timezone.now()) - history.first_pin_at <= NEW_DEVICE_WINDOW


# Why the screening holds a pin, by code: the stored sentence is for moderators (the queue shows it); its
# author reads the code's words in the page's language (reason.<code> in the page's catalogues).
HELD_REASONS = {
    "spam": "Awaiting moderation: the text looks like spam.",
    "new_device": "Awaiting moderation: many pins from a new device.",
    "new_devices_network": "Awaiting moderation: many pins from new devices on one network.",
}
_HELD_CODES = {sentence: code for code, sentence in HELD_REASONS.items()}


def held_reason_code(status_reason: str) -> str:
    """The code of a reason the screening wrote, or "" for a person's own words (a moderator's note)."""
    return _HELD_CODES.get(status_reason, "")


def initial_status(
    *, score: float, author: User | None, history: DeviceHistory, network_new_device_pins: float = 0.0
) -> tuple[str, str]:
    """The status a new pin starts in, and the reason shown to its author when it is held.

    `network_new_device_pins`: pins from new devices on the same network in the last hour. Rotating
    device tokens made every pin "a first pin" (0 of 120 held in the attack pass); past
    CARTO_PREMODERATION_NEW_DEVICE_PINS_PER_NETWORK they are held for review, not refused, since many
    residents can share a carrier's address.
    """
    if is_trusted(author):
        return Pin.Status.RECEIVED, ""
    if score >= SPAM_THRESHOLD:
        return Pin.Status.PENDING, HELD_REASONS["spam"]
    if author is None and new_device_over_limit(history):
        return Pin.Status.PENDING, HELD_REASONS["new_device"]
    if author is None and network_new_device_pins > settings.CARTO_PREMODERATION_NEW_DEVICE_PINS_PER_NETWORK:
        return Pin.Status.PENDING, HELD_REASONS["new_devices_network"]
    return Pin.Status.RECEIVED, ""
