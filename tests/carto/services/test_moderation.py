"""Flags with automatic hiding (counted once per flagger, also under concurrency), hide/restore/redact."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from carto.errors import DomainError
from carto.models import AuditEntry, Flag, Pin
from carto.services.moderation import AUTO_HIDE_FLAGS, pin_flag, pin_hide, pin_redact, pin_restore
from tests.factories import make_pin


@pytest.mark.django_db
def test_the_same_flagger_twice_counts_once():
    pin = make_pin()
    assert pin_flag(pin_id=pin.pk, reason="spam", device_hash="d1").created
    again = pin_flag(pin_id=pin.pk, reason="insult", device_hash="d1")
    assert not again.created and again.flag.reason == "spam"
    assert Flag.objects.filter(pin=pin).count() == 1


@pytest.mark.django_db
def test_three_distinct_flaggers_hide_the_pin_pending_review_with_an_audit_row(resident):
    pin = make_pin()
    pin_flag(pin_id=pin.pk, reason="spam", device_hash="d1")
    pin_flag(pin_id=pin.pk, reason="spam", device_hash="d1")  # counted once
    assert not pin_flag(pin_id=pin.pk, reason="off_topic", user=resident).hidden
    assert pin_flag(pin_id=pin.pk, reason="insult", device_hash="d2").hidden
    pin.refresh_from_db()
    assert pin.status == "hidden" and "review" in pin.status_reason
    assert AuditEntry.objects.get(action="pin_auto_hide").object_id == str(pin.pk)


@pytest.mark.django_db
def test_a_hidden_pin_cannot_be_flagged_and_a_flag_needs_a_flagger():
    with pytest.raises(DomainError) as refused:
        pin_flag(pin_id=make_pin(status="hidden").pk, reason="spam", device_hash="d1")
    assert refused.value.status == 404
    with pytest.raises(DomainError) as refused:
        pin_flag(pin_id=make_pin().pk, reason="spam")
    assert refused.value.code == "device_token_required"
    with pytest.raises(DomainError):
        pin_flag(pin_id=make_pin().pk, reason="ugly", device_hash="d1")


def test_concurrent_flags_by_distinct_and_repeated_flaggers_hide_once(committed_db):
    pin = make_pin()
    flaggers = ["a", "a", "b", "b", "c", "c", "d"]
    barrier = threading.Barrier(len(flaggers))
    errors = []

    def flag(device):
        try:
            barrier.wait()
            pin_flag(pin_id=pin.pk, reason="spam", device_hash=device)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=flag, args=(d,)) for d in flaggers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] or all(isinstance(e, DomainError) and e.status == 404 for e in errors)
    pin.refresh_from_db()
    assert pin.status == "hidden"
    assert AuditEntry.objects.filter(action="pin_auto_hide").count() == 1
    # Flags after the hide are refused (404): at most one row per flagger, at least the threshold.
    assert AUTO_HIDE_FLAGS <= Flag.objects.filter(pin=pin).count() <= 4


@pytest.mark.django_db
def test_hide_restore_and_redact_each_write_an_audit_row_with_the_reason(moderator):
    pin = make_pin(status="acknowledged", text="Appelez-moi au 06 12 34 56 78 pour imprimer")
    pin_hide(pin_id=pin.pk, actor=moderator, reason="Numéro de téléphone")
    pin_redact(pin_id=pin.pk, actor=moderator, text="Appelez-moi pour imprimer", reason="Numéro retiré")
    pin_restore(pin_id=pin.pk, actor=moderator, reason="Texte corrigé")
    pin.refresh_from_db()
    assert (pin.status, pin.status_reason, pin.text) == ("acknowledged", "", "Appelez-moi pour imprimer")
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "reason", "actor_id"))
    assert entries == [
        ("pin_hide", "Numéro de téléphone", moderator.pk),
        ("pin_redact", "Numéro retiré", moderator.pk),
        ("pin_restore", "Texte corrigé", moderator.pk),
    ]
    assert "06 12" not in str(AuditEntry.objects.get(action="pin_redact").data)


@pytest.mark.django_db
def test_restoring_clears_the_flags_so_they_do_not_hide_it_again(moderator):
    pin = make_pin()
    for device in ("d1", "d2", "d3"):
        pin_flag(pin_id=pin.pk, reason="spam", device_hash=device)
    pin_restore(pin_id=pin.pk, actor=moderator, reason="Pas du spam")
    assert not pin_flag(pin_id=pin.pk, reason="spam", device_hash="d4").hidden
    assert Pin.objects.get(pk=pin.pk).status == "received"


@pytest.mark.django_db
def test_a_pre_moderated_pin_is_restored_as_received(moderator):
    pin = make_pin(status="pending", status_reason="Awaiting moderation")
    pin_restore(pin_id=pin.pk, actor=moderator, reason="Correct")
    pin.refresh_from_db()
    assert pin.status == "received"


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", ["resident", "aidant", "association", "elected_official"])
def test_only_moderators_may_hide_restore_or_redact(request, fixture):
    user = request.getfixturevalue(fixture)
    pin = make_pin()
    for call in (
        lambda: pin_hide(pin_id=pin.pk, actor=user, reason="x"),
        lambda: pin_restore(pin_id=pin.pk, actor=user, reason="x"),
        lambda: pin_redact(pin_id=pin.pk, actor=user, text="y", reason="x"),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.status == 403


@pytest.mark.django_db
def test_a_reason_is_required(moderator):
    with pytest.raises(DomainError) as refused:
        pin_hide(pin_id=make_pin().pk, actor=moderator, reason="  ")
    assert refused.value.code == "invalid_reason"


@pytest.mark.django_db
def test_three_fresh_device_tokens_from_one_network_do_not_hide_a_pin():
    """Attack pass: three flags from one IP with three fresh X-Device-Tokens hid any pin."""
    pin = make_pin()
    for device in ("fresh-1", "fresh-2", "fresh-3"):
        assert not pin_flag(pin_id=pin.pk, reason="spam", device_hash=device, ip_hash="one-network").hidden
    assert not pin_flag(pin_id=pin.pk, reason="spam", device_hash="fresh-4", ip_hash="second-network").hidden
    assert pin_flag(pin_id=pin.pk, reason="spam", device_hash="fresh-5", ip_hash="third-network").hidden


@pytest.mark.django_db
def test_a_much_supported_pin_goes_to_review_instead_of_disappearing(moderator):
    from carto.services.moderation import REVIEW_NOT_HIDE_SUPPORTS, moderation_queue
    from carto.services.supports import pin_support

    pin = make_pin()
    for n in range(REVIEW_NOT_HIDE_SUPPORTS):
        pin_support(pin_id=pin.pk, device_hash=f"neighbour-{n}")
    for n in range(3):
        assert not pin_flag(pin_id=pin.pk, reason="insult", device_hash=f"f{n}", ip_hash=f"net-{n}").hidden
    pin.refresh_from_db()
    assert pin.is_visible
    assert pin.pk in [p.pk for p in moderation_queue(actor=moderator)["flagged"]]


@pytest.mark.django_db
def test_one_device_and_one_network_have_a_flag_budget(settings):
    from carto.services.abuse import Throttled

    settings.CARTO_FLAGS_PER_DEVICE_PER_HOUR = 3
    pins = [make_pin() for _ in range(4)]
    for pin in pins[:3]:
        pin_flag(pin_id=pin.pk, reason="spam", device_hash="busy-device", ip_hash="net")
    with pytest.raises(Throttled):
        pin_flag(pin_id=pins[3].pk, reason="spam", device_hash="busy-device", ip_hash="net")
    assert not Flag.objects.filter(pin=pins[3]).exists()  # rolled back with the refusal
