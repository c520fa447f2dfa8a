"""pin_transition: the workflow, who may move each step, the timeline entry and the audit row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from carto.errors import DomainError
from carto.models import AuditEntry, Pin, StatusChange
from carto.services.workflow import pin_timeline, pin_transition
from tests.factories import make_pin

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "resident", "aidant", "association", "moderator", "elected_official", "admin")
# (from, to): roles allowed, written by hand from issue 7 and carto/roles.py's intent.
STEPS = {
    ("received", "acknowledged"): {"association", "elected_official", "admin"},
    ("acknowledged", "linked"): {"association", "elected_official", "admin"},
    ("linked", "resolved"): {"elected_official", "admin"},
    ("received", "declined"): {"moderator", "elected_official", "admin"},
    ("linked", "declined"): {"moderator", "elected_official", "admin"},
}


def person(role: str):
    if role == "anonymous":
        return AnonymousUser()
    if role == "admin":
        return User.objects.create_superuser(username="admin", password="x" * 20)
    user = User.objects.create_user(username=role, password="x" * 20)
    if role != "resident":
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", sorted(STEPS))
def test_each_role_may_or_may_not_move_each_step(step, role):
    source, target = step
    pin = make_pin(status=source)
    actor = person(role)
    if role in STEPS[step]:
        pin_transition(pin_id=pin.pk, actor=actor, to=target, note="Vu en réunion de quartier")
        pin.refresh_from_db()
        assert pin.status == target
        assert AuditEntry.objects.filter(action="pin_transition", object_id=str(pin.pk)).count() == 1
    else:
        with pytest.raises(DomainError) as refused:
            pin_transition(pin_id=pin.pk, actor=actor, to=target, note="Vu")
        assert refused.value.status == (401 if role == "anonymous" else 403)
        pin.refresh_from_db()
        assert pin.status == source
        assert not StatusChange.objects.filter(pin=pin).exists()


def test_the_full_path_writes_a_public_timeline_with_roles_and_no_names(association, elected_official):
    pin = make_pin()
    pin_transition(pin_id=pin.pk, actor=association, to="acknowledged", note="Nous avons vu ce besoin")
    pin_transition(pin_id=pin.pk, actor=association, to="linked", note="Point d'impression le mardi")
    pin_transition(pin_id=pin.pk, actor=elected_official, to="resolved", note="Ouvert depuis mars")
    timeline = pin_timeline(pin, owner=False)
    assert [(c.from_status, c.to_status, c.role) for c in timeline] == [
        ("received", "acknowledged", "association"),
        ("acknowledged", "linked", "association"),
        ("linked", "resolved", "elected_official"),
    ]
    assert all(c.display_name == "" for c in timeline)


def test_a_name_is_shown_only_when_the_person_chose_it(elected_official):
    elected_official.first_name, elected_official.last_name = "Awa", "Diallo"
    elected_official.save()
    pin = make_pin()
    pin_transition(pin_id=pin.pk, actor=elected_official, to="acknowledged", note="Vu", show_name=True)
    assert pin_timeline(pin, owner=False)[0].display_name == "Awa Diallo"


def test_skipping_a_step_or_leaving_a_closed_status_is_409(elected_official):
    pin = make_pin()
    with pytest.raises(DomainError) as refused:
        pin_transition(pin_id=pin.pk, actor=elected_official, to="resolved")
    assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
    closed = make_pin(status="resolved")
    with pytest.raises(DomainError):
        pin_transition(pin_id=closed.pk, actor=elected_official, to="received")


def test_declining_needs_a_reason_that_its_author_then_reads(elected_official):
    pin = make_pin()
    with pytest.raises(DomainError) as refused:
        pin_transition(pin_id=pin.pk, actor=elected_official, to="declined", note="  ")
    assert refused.value.code == "invalid_note"
    pin_transition(
        pin_id=pin.pk, actor=elected_official, to="declined", note="Hors compétence métropolitaine"
    )
    pin.refresh_from_db()
    assert (pin.status, pin.status_reason) == ("declined", "Hors compétence métropolitaine")
    # One rule with the pin detail: its author reads why, the timeline tells strangers only that.
    assert pin_timeline(pin, owner=True)[-1].note == "Hors compétence métropolitaine"
    assert pin_timeline(pin, owner=False)[-1].note == ""


@pytest.mark.parametrize("status", Pin.HIDDEN_STATUSES)
def test_a_hidden_or_pending_pin_cannot_move_along_the_workflow(elected_official, status):
    pin = make_pin(status=status)
    with pytest.raises(DomainError) as refused:
        pin_transition(pin_id=pin.pk, actor=elected_official, to="acknowledged")
    assert refused.value.status == 404
