"""Comments and updates under pins: written by residents (device or account) and signed-in roles,
moderated like pins (likely spam is held hidden; moderators hide and restore with a reason)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from carto.errors import DomainError, InvalidInput
from carto.models import Comment, Pin
from carto.roles import Action, Role, require, role_label
from carto.services import abuse
from carto.services.audit import audit
from carto.services.moderation import clean_reason
from carto.services.pins import clean_text

HELD_REASON = abuse.HELD_REASONS["spam"]


def visible_comments(pin: Pin):
    """The comments the public sees under a pin, oldest first."""
    return Comment.objects.filter(pin=pin, status=Comment.Status.VISIBLE).order_by("created_at", "id")


@transaction.atomic(durable=True)
def comment_create(
    *, pin_id: int, text: str, author: User | None = None, device_hash: str = "", ip_hash: str = ""
) -> Comment:
    """Add a comment under a visible pin (throttled per device and per network, like pins)."""
    signed_in = author if author is not None and author.is_authenticated else None
    if signed_in is None and not device_hash:
        raise InvalidInput("device_token_required", "Send an X-Device-Token header or sign in to comment.")
    pin = Pin.objects.filter(pk=pin_id).first()
    if pin is None or not pin.is_visible:
        raise DomainError("not_found", "This pin does not exist or is not public.", status=404)
    require(signed_in, Action.COMMENT_CREATE, pin)
    # Same length limit as pins (COMMENT_MAX_LENGTH == TEXT_MAX_LENGTH), same checks.
    text = clean_text(text)
    key = f"comment:user:{signed_in.pk}" if signed_in else f"comment:device:{device_hash}"
    limits = {key: settings.CARTO_THROTTLE_DEVICE_PER_HOUR}
    if signed_in is None and ip_hash:
        # Rotating device tokens from one network (35 of 35 comments accepted in the attack pass).
        limits[f"comment:ip:{ip_hash[:32]}"] = settings.CARTO_THROTTLE_IP_PER_HOUR
    abuse.throttle(limits, "Too many comments sent from here recently; please try again later.")
    held = not abuse.is_trusted(signed_in) and abuse.spam_score(text) >= abuse.SPAM_THRESHOLD
    return Comment.objects.create(
        pin=pin,
        author=signed_in,
        device_hash="" if signed_in else device_hash,
        # A device without an account is a resident to readers ("anonymous" would sound suspect).
        role=role_label(signed_in, Action.COMMENT_CREATE) if signed_in else Role.RESIDENT.value,
        text=text,
        status=Comment.Status.HIDDEN if held else Comment.Status.VISIBLE,
        status_reason=HELD_REASON if held else "",
    )


def _set(comment_id: int, *, actor: User, action: Action, status: str, reason: str) -> Comment:
    reason = clean_reason(reason)
    require(actor, action)  # first: no comment is read or locked for someone who may not moderate
    comment = Comment.objects.select_for_update().filter(pk=comment_id).first()
    if comment is None:
        raise DomainError("not_found", "Not found.", status=404)
    old = comment.status
    comment.status = status
    comment.status_reason = reason if status == Comment.Status.HIDDEN else ""
    comment.save(update_fields=["status", "status_reason"])
    audit(
        actor=actor,
        action=action.value,
        obj=comment,
        reason=reason,
        data={"from": old, "pin": comment.pin_id},
    )
    return comment


@transaction.atomic(durable=True)
def comment_hide(*, comment_id: int, actor: User, reason: str) -> Comment:
    """Hide a comment (moderators), with the reason."""
    return _set(
        comment_id, actor=actor, action=Action.COMMENT_HIDE, status=Comment.Status.HIDDEN, reason=reason
    )


@transaction.atomic(durable=True)
def comment_restore(*, comment_id: int, actor: User, reason: str) -> Comment:
    """Show a hidden comment again (moderators), with the reason."""
    return _set(
        comment_id, actor=actor, action=Action.COMMENT_RESTORE, status=Comment.Status.VISIBLE, reason=reason
    )
