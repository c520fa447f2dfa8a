"""Supports ("moi aussi"): one per signed-in user or anonymous device per pin, counted exactly."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction

from carto.errors import DomainError, InvalidInput
from carto.models import Pin, Support
from carto.services import abuse
from carto.stats.map_version import map_version_bump

# ON CONFLICT without a target covers both partial unique indexes (per user, per device): a
# concurrent double tap inserts nothing instead of raising.
_INSERT_SQL = """
INSERT INTO carto_support (pin_id, user_id, device_hash, created_at)
VALUES (%s, %s, %s, now())
ON CONFLICT DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class SupportResult:
    support_count: int
    supported: bool
    created: bool = False


def _supporter(user: User | None, device_hash: str) -> tuple[int | None, str]:
    # A signed-in user supports as themself; the device only speaks for anonymous visitors.
    if user is not None and user.is_authenticated:
        return user.pk, ""
    if device_hash:
        return None, device_hash
    raise InvalidInput(
        "device_token_required", "Send an X-Device-Token header or sign in to support a pin.", status=400
    )


def _locked_visible_pin(pin_id: int) -> Pin:
    # The row lock serialises supports of one pin, so the recount below is exact.
    pin = Pin.objects.visible().select_for_update().filter(pk=pin_id).first()
    if pin is None:
        raise DomainError("not_found", "This pin does not exist or is not public.", status=404)
    return pin


def _recount(pin: Pin) -> int:
    count = Support.objects.filter(pin=pin).count()
    Pin.objects.filter(pk=pin.pk).update(support_count=count)
    # The pin's cluster says "N people say the same" with its supports: kept in the same transaction.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE carto_cluster c SET support_count = c.support_count + %s"
            " FROM carto_pincluster pc WHERE pc.pin_id = %s AND c.id = pc.cluster_id",
            [count - pin.support_count, pin.pk],
        )
    map_version_bump()  # support_count is a tile property: cached tiles must not keep the old one
    return count


@transaction.atomic(durable=True)
def pin_support(
    *, pin_id: int, user: User | None = None, device_hash: str = "", ip_hash: str = ""
) -> SupportResult:
    """Add the supporter's "moi aussi" to a visible pin (once); return the exact new count.

    Anonymous supports are bounded per network and pin (abuse.throttle_network_on_pin); accounts are not.
    """
    user_id, device = _supporter(user, device_hash)
    pin = _locked_visible_pin(pin_id)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, [pin.pk, user_id, device])
        created = cursor.fetchone() is not None
    if created and user_id is None:
        abuse.throttle_network_on_pin(
            action="support",
            ip_hash=ip_hash,
            pin_id=pin.pk,
            limit=settings.CARTO_SUPPORTS_PER_NETWORK_PER_PIN_HOUR,
        )
    return SupportResult(support_count=_recount(pin), supported=True, created=created)


@transaction.atomic(durable=True)
def pin_unsupport(*, pin_id: int, user: User | None = None, device_hash: str = "") -> SupportResult:
    """Withdraw the supporter's "moi aussi" (no error if there was none)."""
    user_id, device = _supporter(user, device_hash)
    pin = _locked_visible_pin(pin_id)
    supports = Support.objects.filter(pin=pin)
    supports = supports.filter(user_id=user_id) if user_id else supports.filter(device_hash=device, user=None)
    supports.delete()
    return SupportResult(support_count=_recount(pin), supported=False)
