"""Moderation of pins: flags with automatic hiding, hide / restore / redact by moderators, the queue.

Every status change here moves the pin out of, or back into, its cluster; the map aggregates follow the row
(a trigger on carto_pin) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from carto.errors import DomainError, InvalidInput
from carto.models import Flag, Pin, PinCluster, StatusChange
from carto.roles import Action, allowed, require, role_label, roles_of
from carto.services import abuse
from carto.services.audit import audit
from carto.services.clustering import cluster_refresh, cluster_unassign
from carto.services.pins import clean_text
from carto.stats.map_version import map_version_bump
from carto.tasks import cluster_pin

# Open flags from this many distinct networks (IP hashes) within AUTO_HIDE_WINDOW hide a visible pin
# pending review: three fresh device tokens from one address could hide any pin (attack pass).
AUTO_HIDE_FLAGS = 3
AUTO_HIDE_WINDOW = dt.timedelta(hours=48)
AUTO_HIDE_REASON = "Hidden pending review: several people reported this pin."
# A pin that this many people support goes to the moderation queue instead of disappearing.
REVIEW_NOT_HIDE_SUPPORTS = 5
REASON_MAX_LENGTH = 500
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class FlagResult:
    flag: Flag
    created: bool  # False when this flagger had already flagged the pin
    hidden: bool  # the pin is hidden now


def clean_reason(reason: str) -> str:
    """A moderator's reason: required, one line of at most 500 characters."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > REASON_MAX_LENGTH or "\x00" in reason:
        raise InvalidInput(
            "invalid_reason",
            f"A reason of 1 to {REASON_MAX_LENGTH} characters is required.",
            fields={"reason": ["required"]},
        )
    return reason


def _locked_pin(pin_id: int, *, actor: User | None = None, action: Action | None = None) -> Pin:
    """The pin, its row locked. With an `action`, someone whose role never allows it is refused first (401,
    403): no row is read or locked for them, and an id that exists answers as one that does not."""
    if action is not None and not allowed(roles_of(actor), action):
        require(actor, action)
    pin = Pin.objects.select_for_update().filter(pk=pin_id).first()
    if pin is None:
        raise DomainError("not_found", "Not found.", status=404)
    return pin


def pin_set_status(
    *, pin: Pin, to: str, reason: str, actor: User | None, role: str, note: str = "", public: bool
) -> StatusChange:
    """Move a locked pin to `to`, keeping aggregates and clusters in step; one history entry.

    The caller holds the pin's row lock and writes the audit row.
    """
    old = pin.status
    pin.status, pin.status_reason = to, reason[:REASON_MAX_LENGTH]
    pin.save(update_fields=["status", "status_reason", "updated_at"])
    map_version_bump()  # the aggregates follow the row (a trigger); the status is a tile property
    if old in Pin.VISIBLE_STATUSES and not pin.is_visible:
        cluster_unassign(pin)
    elif pin.is_visible and old not in Pin.VISIBLE_STATUSES:
        # Clustering on the job queue, as for a new pin: never slowing or failing the moderator's action.
        cluster_pin.defer(pin_id=pin.pk)
    return StatusChange.objects.create(
        pin=pin, from_status=old, to_status=to, note=note, role=role, actor=actor, public=public
    )


def _resolve_flags(pin: Pin) -> None:
    Flag.objects.filter(pin=pin, resolved_at__isnull=True).update(resolved_at=timezone.now())


@transaction.atomic(durable=True)
def pin_flag(
    *, pin_id: int, reason: str, user: User | None = None, device_hash: str = "", ip_hash: str = ""
) -> FlagResult:
    """Record one flag per flagger; flags from AUTO_HIDE_FLAGS distinct networks hide the pin for review
    (unless many people support it: then it waits in the moderation queue, visible)."""
    if reason not in Flag.Reason.values:
        raise InvalidInput(
            "invalid_reason",
            f"reason must be one of {', '.join(Flag.Reason.values)}",
            fields={"reason": [str(reason)[:60]]},
        )
    signed_in = user if user is not None and user.is_authenticated else None
    if signed_in is None and not device_hash:
        raise InvalidInput("device_token_required", "Send an X-Device-Token header or sign in to flag a pin.")
    # Row lock: concurrent flags on one pin are counted one after the other, so the threshold is
    # crossed exactly once and every flagger is counted once.
    pin = _locked_pin(pin_id)
    if not pin.is_visible:
        raise DomainError("not_found", "This pin does not exist or is not public.", status=404)
    require(signed_in, Action.PIN_FLAG, pin)
    flagger = {"user": signed_in} if signed_in else {"device_hash": device_hash}
    try:
        with transaction.atomic():
            flag = Flag.objects.create(pin=pin, reason=reason, ip_hash=ip_hash, **flagger)
            created = True
    except IntegrityError:
        flag = Flag.objects.get(pin=pin, **flagger)
        created = False
    if created and signed_in is None:
        # A flag budget per device and per network (a refusal rolls this flag back).
        limits = {
            f"flag:device:{device_hash}": settings.CARTO_FLAGS_PER_DEVICE_PER_HOUR,
            f"flag:ip:{ip_hash[:32]}": settings.CARTO_FLAGS_PER_NETWORK_PER_HOUR,
        }
        limits = {key: limit for key, limit in limits.items() if not key.endswith(":")}
        abuse.throttle(limits, "Too many reports sent from here recently; please try again later.")
    networks = _flagging_networks(pin)
    if created and networks >= AUTO_HIDE_FLAGS and pin.support_count < REVIEW_NOT_HIDE_SUPPORTS:
        pin_set_status(
            pin=pin,
            to=Pin.Status.HIDDEN,
            reason=AUTO_HIDE_REASON,
            actor=None,
            role="moderation",
            public=False,
        )
        audit(
            actor=None, action="pin_auto_hide", obj=pin, reason=AUTO_HIDE_REASON, data={"networks": networks}
        )
    return FlagResult(flag=flag, created=created, hidden=pin.status == Pin.Status.HIDDEN)


def _flagging_networks(pin: Pin) -> int:
    """Distinct networks among the pin's open flags of the last AUTO_HIDE_WINDOW (a flag without a
    network, from a signed-in account, counts as its own)."""
    recent = Flag.objects.filter(
        pin=pin, resolved_at__isnull=True, created_at__gte=timezone.now() - AUTO_HIDE_WINDOW
    )
    with_ip = recent.exclude(ip_hash="").values("ip_hash").distinct().count()
    return with_ip + recent.filter(ip_hash="").count()


@transaction.atomic(durable=True)
def pin_hide(*, pin_id: int, actor: User, reason: str) -> Pin:
    """Hide a pin from every public surface; its author still sees it, with the reason."""
    reason = clean_reason(reason)
    pin = _locked_pin(pin_id, actor=actor, action=Action.PIN_HIDE)
    require(actor, Action.PIN_HIDE, pin)
    old = pin.status
    pin_set_status(
        pin=pin, to=Pin.Status.HIDDEN, reason=reason, actor=actor, role=role_label(actor), public=False
    )
    _resolve_flags(pin)
    audit(actor=actor, action="pin_hide", obj=pin, reason=reason, data={"from": old})
    return pin


def _restore_target(pin: Pin) -> str:
    """The visible status a hidden pin had before it was hidden (received for a pre-moderated pin)."""
    last = (
        StatusChange.objects.filter(pin=pin, to_status=Pin.Status.HIDDEN)
        .order_by("-created_at", "-id")
        .values_list("from_status", flat=True)
        .first()
    )
    return last if last in Pin.VISIBLE_STATUSES else Pin.Status.RECEIVED


@transaction.atomic(durable=True)
def pin_restore(*, pin_id: int, actor: User, reason: str) -> Pin:
    """Put a hidden or pending pin back on every public surface, in the status it had."""
    reason = clean_reason(reason)
    pin = _locked_pin(pin_id, actor=actor, action=Action.PIN_RESTORE)
    require(actor, Action.PIN_RESTORE, pin)
    old = pin.status
    to = _restore_target(pin) if old == Pin.Status.HIDDEN else Pin.Status.RECEIVED
    pin_set_status(pin=pin, to=to, reason="", actor=actor, role=role_label(actor), public=False)
    _resolve_flags(pin)
    audit(actor=actor, action="pin_restore", obj=pin, reason=reason, data={"from": old, "to": to})
    return pin


@transaction.atomic(durable=True)
def pin_redact(*, pin_id: int, actor: User, text: str, reason: str) -> Pin:
    """Replace a pin's text with one where personal data is edited out; the audit keeps the reason only.

    The removed text is not copied into the audit row: that would keep the personal data it removes.
    """
    reason = clean_reason(reason)
    text = clean_text(text)
    pin = _locked_pin(pin_id, actor=actor, action=Action.PIN_REDACT)
    require(actor, Action.PIN_REDACT, pin)
    before = len(pin.text)
    pin.text = text
    pin.save(update_fields=["text", "updated_at"])
    # A cluster label may be this pin's old text: recompute it from the members.
    link = PinCluster.objects.filter(pin_id=pin.pk).select_related("cluster").first()
    if link is not None:
        cluster_refresh(link.cluster)
    audit(
        actor=actor,
        action="pin_redact",
        obj=pin,
        reason=reason,
        data={"length_before": before, "length_after": len(text)},
    )
    return pin


def moderation_queue(*, actor: User) -> dict[str, list[Pin]]:
    """Pins waiting for a moderator: pre-moderated (pending), with open flags (hidden or not), and the
    least certain members of clusters."""
    require(actor, Action.MODERATION_QUEUE)
    open_flags = Flag.objects.filter(pin=OuterRef("pk"), resolved_at__isnull=True)
    pins = (
        Pin.objects.select_related("theme", "commune", "cluster_link__cluster")
        .annotate(
            open_flags=Count("flags", filter=Q(flags__resolved_at__isnull=True)),
            flagged=Exists(open_flags),
        )
        .order_by("created_at", "id")
    )
    return {
        "pending": list(pins.filter(status=Pin.Status.PENDING)[:QUEUE_LIMIT]),
        "flagged": list(pins.filter(flagged=True).exclude(status=Pin.Status.PENDING)[:QUEUE_LIMIT]),
        # Visible pins that joined their cluster with the weakest mean cosine and no curator placed:
        # where a curator's "same need" / "not the same need" teaches the clustering most.
        "clustering": list(
            Pin.objects.visible()
            .select_related("theme", "commune", "cluster_link__cluster")
            .filter(cluster_link__pinned_by_curator=False, cluster_link__cluster__pin_count__gte=2)
            .order_by("cluster_link__similarity", "id")[:QUEUE_LIMIT]
        ),
    }


def flag_reasons(pin_ids: list[int]) -> dict[int, dict[str, int]]:
    """{pin id: {reason: open flags}} for the queue (one GROUP BY)."""
    out: dict[int, dict[str, int]] = {pin_id: {} for pin_id in pin_ids}
    rows = (
        Flag.objects.filter(pin_id__in=pin_ids, resolved_at__isnull=True)
        .values_list("pin_id", "reason")
        .annotate(n=Count("id"))
        .order_by("pin_id", "reason")
    )
    for pin_id, reason, n in rows:
        out[pin_id][reason] = n
    return out
