"""The status workflow of a pin: received → acknowledged → linked → resolved, or declined with a reason.

Who may move which transition is in carto.roles (TRANSITIONS and MATRIX). Each transition writes a
public timeline entry (note, date, role; a name only if the person chose to show it) and an audit row.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from carto.errors import DomainError, InvalidInput
from carto.models import Pin, StatusChange
from carto.roles import TRANSITIONS, allowed, require, role_label, roles_of
from carto.services.audit import audit
from carto.services.moderation import REASON_MAX_LENGTH, pin_set_status

NAME_MAX_LENGTH = 150
# Every action of the workflow, in a fixed order (the first names the refusal of someone who has none).
_WORKFLOW_ACTIONS = sorted(set(TRANSITIONS.values()))


def _clean_note(note: str, *, required: bool) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if "\x00" in note or len(note) > REASON_MAX_LENGTH or (required and not note):
        raise InvalidInput(
            "invalid_note",
            f"note must be {'1' if required else '0'} to {REASON_MAX_LENGTH} characters"
            + (" (a declined pin needs its reason)" if required else ""),
            fields={"note": ["required" if required and not note else "invalid"]},
        )
    return note


def display_name(user: User) -> str:
    """The name a person shows when they choose to: their full name, else their user name."""
    return (user.get_full_name() or user.get_username())[:NAME_MAX_LENGTH]


@transaction.atomic(durable=True)
def pin_transition(
    *, pin_id: int, actor: User | None, to: str, note: str = "", show_name: bool = False
) -> Pin:
    """Move a visible pin one step along the workflow, as the actor's role allows."""
    roles = roles_of(actor)
    if not any(allowed(roles, action) for action in _WORKFLOW_ACTIONS):
        # No step is theirs: 401 or 403 before any pin is read, so an anonymous request neither locks a
        # pin's row nor learns from a 404 or a 409 what the pin is.
        require(actor, _WORKFLOW_ACTIONS[0])
    pin = Pin.objects.select_for_update().filter(pk=pin_id).first()
    if pin is None or not pin.is_visible:
        raise DomainError("not_found", "This pin does not exist or is not public.", status=404)
    if to not in Pin.Status.values:
        raise InvalidInput("invalid_status", "Unknown status.", fields={"to": [str(to)[:60]]})
    action = TRANSITIONS.get((pin.status, to))
    if action is None:
        raise DomainError(
            "invalid_transition",
            f"A pin cannot go from {pin.status} to {to}.",
            fields={"to": [str(to)]},
            status=409,
        )
    require(actor, action, pin)
    note = _clean_note(note, required=to == Pin.Status.DECLINED)
    old = pin.status
    change = pin_set_status(
        pin=pin,
        to=to,
        # The reason of a decline is what its author reads on their pin.
        reason=note if to == Pin.Status.DECLINED else "",
        actor=actor,
        role=role_label(actor, action),
        note=note,
        public=True,
    )
    if show_name:
        change.display_name = display_name(actor)
        change.save(update_fields=["display_name"])
    audit(actor=actor, action="pin_transition", obj=pin, reason=note, data={"from": old, "to": to})
    return pin


def pin_timeline(pin: Pin, *, owner: bool) -> list[StatusChange]:
    """The public entries of a pin's status history, oldest first.

    A decline's note is the pin's status_reason, which only its author reads (the pin detail's rule):
    strangers see that the pin was declined, not why.
    """
    changes = list(StatusChange.objects.filter(pin=pin, public=True).order_by("created_at", "id"))
    if not owner:
        for change in changes:
            if change.to_status == Pin.Status.DECLINED:
                change.note = ""
    return changes
