"""Personal data rights (GDPR): export of one's own data, account deletion, and the retention purge."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from carto.errors import DomainError, InvalidInput
from carto.geo import to_api
from carto.models import Pin, Support, UsedLink
from carto.services.clustering import cluster_unassign
from carto.stats.map_version import map_version_bump

EXPORT_SALT = "carto.account-export"
EXPORT_PURPOSE = "account-export"


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat()


def _lonlat(point) -> list[float]:
    wgs84 = to_api(point)
    return [round(wgs84.x, 6), round(wgs84.y, 6)]


def account_export(user: User) -> dict:
    """Everything carto holds about `user`, and nothing about anyone else."""
    pins = Pin.objects.filter(author=user).select_related("theme", "commune").order_by("created_at", "id")
    mediated = Pin.objects.filter(mediated_by=user).select_related("theme").order_by("created_at", "id")
    supports = Support.objects.filter(user=user).order_by("created_at", "id")
    return {
        "account": {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "pins": [
            {
                "id": pin.pk,
                "kind": pin.kind,
                "theme": pin.theme.slug,
                "text": pin.text,
                "language": pin.language,
                "status": pin.status,
                "status_reason": pin.status_reason,
                # Their own pin: the exact point they gave, and the blurred one the public sees.
                "location": _lonlat(pin.location),
                "public_location": _lonlat(pin.public_location),
                "commune": pin.commune.name,
                "support_count": pin.support_count,
                "created_at": _iso(pin.created_at),
                "updated_at": _iso(pin.updated_at),
            }
            for pin in pins
        ],
        # Pins they entered on someone's behalf: only what they did, never the resident's exact point.
        "mediated_pins": [
            {"id": pin.pk, "theme": pin.theme.slug, "status": pin.status, "created_at": _iso(pin.created_at)}
            for pin in mediated
        ],
        "supports": [{"pin": s.pin_id, "created_at": _iso(s.created_at)} for s in supports],
        "exported_at": _iso(timezone.now()),
    }


def export_link_token(user: User) -> str:
    """A signed, expiring token for one download of `user`'s export (the nonce makes it single-use)."""
    return signing.dumps({"u": user.pk, "n": secrets.token_hex(16)}, salt=EXPORT_SALT, compress=True)


@transaction.atomic(durable=True)
def account_export_redeem(*, user: User, token: str) -> dict:
    """The export behind `token`, once, within CARTO_EXPORT_LINK_SECONDS, for the user it was made for."""
    try:
        payload = signing.loads(token, salt=EXPORT_SALT, max_age=settings.CARTO_EXPORT_LINK_SECONDS)
    except signing.SignatureExpired:
        raise DomainError(
            "link_expired", "This download link has expired; ask for a new one.", status=410
        ) from None
    except signing.BadSignature:
        raise DomainError("not_found", "Not found.", status=404) from None
    if not isinstance(payload, dict) or payload.get("u") != user.pk or not isinstance(payload.get("n"), str):
        # Someone else's link looks exactly like a wrong one.
        raise DomainError("not_found", "Not found.", status=404)
    try:
        with transaction.atomic():
            UsedLink.objects.create(purpose=EXPORT_PURPOSE, nonce=payload["n"][:64])
    except IntegrityError:
        raise DomainError(
            "link_used", "This download link was already used; ask for a new one.", status=410
        ) from None
    return account_export(user)


PinChoice = Literal["anonymise", "delete"]


@dataclass(frozen=True)
class DeletionSummary:
    pins_anonymised: int
    pins_deleted: int
    supports_deleted: int


@transaction.atomic(durable=True)
def account_delete(user: User, *, pins: PinChoice = "anonymise") -> DeletionSummary:
    """Blank `user`'s personal fields and disable the account; their pins are anonymised or deleted.

    The user row itself stays (blank, unusable) so audit rows and mediated pins keep a stable reference.
    """
    if pins not in ("anonymise", "delete"):
        raise InvalidInput(
            "invalid_choice", "pins must be anonymise or delete", fields={"pins": [str(pins)[:20]]}
        )
    own = Pin.objects.select_for_update().filter(author=user)
    anonymised = deleted = 0
    if pins == "delete":
        for pin in own.select_related(None).order_by("id"):
            if pin.is_visible:
                map_version_bump()  # the aggregates follow the deleted row (a trigger)
                # Its cluster's label, counts and places are recomputed without it, as for a hidden pin: the
                # label may be this very text.
                cluster_unassign(pin)
            pin.delete()
            deleted += 1
    else:
        # The exact point and the device/IP hashes are what tie a pin to a person; the text stays public.
        anonymised = own.update(
            author=None, device_hash="", ip_hash="", location=F("public_location"), updated_at=timezone.now()
        )
    supports = list(Support.objects.select_for_update().filter(user=user).values_list("pin_id", flat=True))
    Support.objects.filter(user=user).delete()
    if supports:
        map_version_bump()  # support_count is a tile property and a statistic: caches must not keep the old one
    for pin_id in sorted(set(supports)):
        Pin.objects.filter(pk=pin_id).update(support_count=Support.objects.filter(pin_id=pin_id).count())
    # API tokens are stored credentials: they go too (looked up by label: carto never imports the API).
    if apps.is_installed("rest_framework.authtoken"):
        apps.get_model("authtoken", "Token").objects.filter(user=user).delete()
    user.username = f"deleted-{secrets.token_hex(8)}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    return DeletionSummary(pins_anonymised=anonymised, pins_deleted=deleted, supports_deleted=len(supports))


@dataclass(frozen=True)
class RetentionSummary:
    locations_purged: int
    ip_hashes_blanked: int


@transaction.atomic(durable=True)
def retention_purge(*, now: dt.datetime) -> RetentionSummary:
    """Forget exact locations of pins closed (resolved, declined) long ago, and old IP hashes."""
    location_cutoff = now - dt.timedelta(days=settings.CARTO_RETENTION_DAYS)
    ip_cutoff = now - dt.timedelta(days=settings.CARTO_IP_HASH_RETENTION_DAYS)
    # updated_at is when the pin was last changed, i.e. resolved for a pin that stayed resolved.
    purged = (
        Pin.objects.filter(status__in=Pin.CLOSED_STATUSES, updated_at__lt=location_cutoff)
        .exclude(location__equals=F("public_location"))
        .update(location=F("public_location"))
    )
    blanked = Pin.objects.filter(created_at__lt=ip_cutoff).filter(~Q(ip_hash="")).update(ip_hash="")
    return RetentionSummary(locations_purged=purged, ip_hashes_blanked=blanked)
