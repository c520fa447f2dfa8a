"""Roles and the one authorisation matrix: role × action → allowed, plus the rules about the object.

Roles are Django groups (one group per role, same name); an anonymous device has no account, a
signed-in user without any group is a resident, a superuser is an admin. Services ask `can()` or
`require()`; views never repeat the rules. tests/carto/test_roles.py iterates over the whole matrix.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import Group

from carto.errors import DomainError, NotAllowed
from carto.models import Pin


class Role(StrEnum):
    ANONYMOUS = "anonymous"  # a device token, no account
    RESIDENT = "resident"
    AIDANT = "aidant"
    ASSOCIATION = "association"
    MODERATOR = "moderator"
    ELECTED_OFFICIAL = "elected_official"  # elected officials and metropolitan staff
    ADMIN = "admin"


class Action(StrEnum):
    PIN_CREATE = "pin_create"
    PIN_CREATE_MEDIATED = "pin_create_mediated"  # on a resident's behalf, with consent
    PIN_SUPPORT = "pin_support"
    PIN_FLAG = "pin_flag"
    COMMENT_CREATE = "comment_create"
    PIN_ACKNOWLEDGE = "pin_acknowledge"
    PIN_LINK = "pin_link"
    PIN_RESOLVE = "pin_resolve"
    PIN_DECLINE = "pin_decline"
    PIN_HIDE = "pin_hide"
    PIN_RESTORE = "pin_restore"
    PIN_REDACT = "pin_redact"
    COMMENT_HIDE = "comment_hide"
    COMMENT_RESTORE = "comment_restore"
    MODERATION_QUEUE = "moderation_queue"
    AUDIT_READ = "audit_read"
    # Merge, split, rename clusters, "same need" / "not the same need", link a Grand Paris response.
    CLUSTER_CURATE = "cluster_curate"


# Groups that exist as roles (anonymous is the absence of an account; admin may also be a superuser).
GROUP_ROLES = (
    Role.RESIDENT,
    Role.AIDANT,
    Role.ASSOCIATION,
    Role.MODERATOR,
    Role.ELECTED_OFFICIAL,
    Role.ADMIN,
)
EVERYONE = frozenset(Role)
SIGNED_IN = EVERYONE - {Role.ANONYMOUS}
MODERATION = frozenset({Role.MODERATOR, Role.ADMIN})

# The matrix. A role absent from an action's set is refused.
MATRIX: dict[Action, frozenset[Role]] = {
    Action.PIN_CREATE: EVERYONE,
    Action.PIN_CREATE_MEDIATED: frozenset({Role.AIDANT}),
    Action.PIN_SUPPORT: EVERYONE,
    Action.PIN_FLAG: EVERYONE,
    # Residents comment from their device too: same moderation as pins.
    Action.COMMENT_CREATE: EVERYONE,
    # Follow-up of a need: the people who can act on it say so publicly.
    Action.PIN_ACKNOWLEDGE: frozenset({Role.ASSOCIATION, Role.ELECTED_OFFICIAL, Role.ADMIN}),
    Action.PIN_LINK: frozenset({Role.ASSOCIATION, Role.ELECTED_OFFICIAL, Role.ADMIN}),
    Action.PIN_RESOLVE: frozenset({Role.ELECTED_OFFICIAL, Role.ADMIN}),
    Action.PIN_DECLINE: frozenset({Role.MODERATOR, Role.ELECTED_OFFICIAL, Role.ADMIN}),
    Action.PIN_HIDE: MODERATION,
    Action.PIN_RESTORE: MODERATION,
    Action.PIN_REDACT: MODERATION,
    Action.COMMENT_HIDE: MODERATION,
    Action.COMMENT_RESTORE: MODERATION,
    Action.MODERATION_QUEUE: MODERATION,
    Action.AUDIT_READ: frozenset({Role.ADMIN}),
    Action.CLUSTER_CURATE: frozenset({Role.ASSOCIATION, Role.MODERATOR, Role.ADMIN}),
}

# The status workflow: received → acknowledged → linked → resolved, or declined from any open status.
TRANSITIONS: dict[tuple[str, str], Action] = {
    (Pin.Status.RECEIVED, Pin.Status.ACKNOWLEDGED): Action.PIN_ACKNOWLEDGE,
    (Pin.Status.ACKNOWLEDGED, Pin.Status.LINKED): Action.PIN_LINK,
    (Pin.Status.LINKED, Pin.Status.RESOLVED): Action.PIN_RESOLVE,
    **{(status, Pin.Status.DECLINED): Action.PIN_DECLINE for status in Pin.OPEN_STATUSES},
}

# Object rules: the pin states in which an action on a pin makes sense at all.
_PIN_STATES: dict[Action, tuple[str, ...]] = {
    Action.PIN_SUPPORT: Pin.VISIBLE_STATUSES,
    Action.PIN_FLAG: Pin.VISIBLE_STATUSES,
    Action.COMMENT_CREATE: Pin.VISIBLE_STATUSES,
    Action.PIN_HIDE: Pin.VISIBLE_STATUSES + (Pin.Status.PENDING,),
    Action.PIN_RESTORE: Pin.HIDDEN_STATUSES,
    Action.PIN_REDACT: tuple(Pin.Status.values),
}

# Most accountable first: the label a timeline entry shows when a person holds several roles.
_RANK = (
    Role.ADMIN,
    Role.ELECTED_OFFICIAL,
    Role.MODERATOR,
    Role.ASSOCIATION,
    Role.AIDANT,
    Role.RESIDENT,
    Role.ANONYMOUS,
)


def roles_of(user) -> frozenset[Role]:
    """The roles of a user (None or anonymous: a device only)."""
    if user is None or not user.is_authenticated:
        return frozenset({Role.ANONYMOUS})
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role in GROUP_ROLES if role.value in names}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return frozenset(roles or {Role.RESIDENT})


def allowed(roles: frozenset[Role], action: Action) -> bool:
    """The matrix alone: may any of these roles do this action?"""
    return bool(roles & MATRIX[action])


def can(user, action: Action, obj=None) -> bool:
    """May `user` do `action` (on `obj`, whose state must suit the action)?"""
    if not allowed(roles_of(user), action):
        return False
    if isinstance(obj, Pin) and action in _PIN_STATES:
        return obj.status in _PIN_STATES[action]
    return True


def require(user, action: Action, obj=None) -> None:
    """Raise unless `can(user, action, obj)`: 401 without an account, 403 for the role, 409 for the state."""
    if can(user, action, obj):
        return
    if allowed(roles_of(user), action):
        raise DomainError("invalid_state", "This action does not apply to the pin as it is now.", status=409)
    if user is None or not user.is_authenticated:
        raise DomainError("not_authenticated", "Sign in to do this.", status=401)
    raise NotAllowed("not_allowed", "Your role does not allow this action.")


def role_label(user, action: Action | None = None) -> str:
    """The role a public entry shows: the most accountable of the user's roles (that allows `action`)."""
    roles = roles_of(user)
    if action is not None:
        roles = roles & MATRIX[action] or roles
    return next(role.value for role in _RANK if role in roles)


def groups_ensure() -> list[Group]:
    """Create the role groups if missing (idempotent); returns them."""
    return [Group.objects.get_or_create(name=role.value)[0] for role in GROUP_ROLES]
