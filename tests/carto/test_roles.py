"""The authorisation matrix: every role × action cell, and the object rules, checked against a table
written here by hand (not derived from carto.roles, so that a change of the matrix shows up in review)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from carto.errors import DomainError
from carto.models import Pin
from carto.roles import MATRIX, TRANSITIONS, Action, Role, can, groups_ensure, require, role_label, roles_of

pytestmark = pytest.mark.django_db

A, R, AI, AS, M, E, AD = (
    "anonymous",
    "resident",
    "aidant",
    "association",
    "moderator",
    "elected_official",
    "admin",
)
ALL = {A, R, AI, AS, M, E, AD}

EXPECTED = {
    "pin_create": ALL,
    "pin_create_mediated": {AI},
    "pin_support": ALL,
    "pin_flag": ALL,
    "comment_create": ALL,
    "pin_acknowledge": {AS, E, AD},
    "pin_link": {AS, E, AD},
    "pin_resolve": {E, AD},
    "pin_decline": {M, E, AD},
    "pin_hide": {M, AD},
    "pin_restore": {M, AD},
    "pin_redact": {M, AD},
    "comment_hide": {M, AD},
    "comment_restore": {M, AD},
    "moderation_queue": {M, AD},
    "audit_read": {AD},
    "cluster_curate": {AS, M, AD},
}


def user_with(role: str):
    if role == A:
        return AnonymousUser()
    if role == AD:
        return User.objects.create_superuser(username="root", password="x" * 20)
    user = User.objects.create_user(username=role, password="x" * 20)
    if role != R:  # a signed-in user without a group is a resident
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def test_the_table_here_covers_every_action_of_the_matrix():
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in MATRIX}


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_cell_of_the_matrix(role, action):
    user = user_with(role)
    assert can(user, Action(action)) is (role in EXPECTED[action])


@pytest.mark.parametrize("role", sorted(ALL))
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_a_refused_cell_raises_401_without_an_account_and_403_with_one(role, action):
    user = user_with(role)
    if role in EXPECTED[action]:
        require(user, Action(action))
        return
    with pytest.raises(DomainError) as refused:
        require(user, Action(action))
    assert refused.value.status == (401 if role == A else 403)


def test_the_workflow_goes_received_acknowledged_linked_resolved_or_declined_from_any_open_status():
    assert {(a, b) for a, b in TRANSITIONS} == {
        ("received", "acknowledged"),
        ("acknowledged", "linked"),
        ("linked", "resolved"),
        ("received", "declined"),
        ("acknowledged", "declined"),
        ("linked", "declined"),
    }


STATE_RULES = {
    # action: pin statuses in which it applies
    Action.PIN_FLAG: set(Pin.VISIBLE_STATUSES),
    Action.COMMENT_CREATE: set(Pin.VISIBLE_STATUSES),
    Action.PIN_SUPPORT: set(Pin.VISIBLE_STATUSES),
    Action.PIN_HIDE: {*Pin.VISIBLE_STATUSES, "pending"},
    Action.PIN_RESTORE: {"pending", "hidden"},
}


@pytest.mark.parametrize("status", Pin.Status.values)
@pytest.mark.parametrize("action", sorted(STATE_RULES))
def test_object_rules_depend_on_the_pin_status(action, status):
    admin = user_with(AD)  # allowed by the matrix for every action here: only the state decides
    assert can(admin, action, Pin(status=status)) is (status in STATE_RULES[action])


def test_a_refused_state_is_409_not_403(moderator):
    with pytest.raises(DomainError) as refused:
        require(moderator, Action.PIN_RESTORE, Pin(status="received"))
    assert refused.value.status == 409


def test_roles_come_from_groups_and_the_label_is_the_most_accountable_allowed_role(moderator):
    moderator.groups.add(Group.objects.get_or_create(name="association")[0])
    assert roles_of(moderator) == {Role.MODERATOR, Role.ASSOCIATION}
    assert role_label(moderator) == "moderator"
    assert role_label(moderator, Action.PIN_ACKNOWLEDGE) == "association"
    assert roles_of(None) == {Role.ANONYMOUS}


def test_groups_ensure_is_idempotent():
    first = groups_ensure()
    assert [g.name for g in groups_ensure()] == [g.name for g in first]
    assert Group.objects.filter(name__in=[g.name for g in first]).count() == 6
