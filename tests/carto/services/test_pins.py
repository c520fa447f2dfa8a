"""Pin services: submission with screening, anti-abuse rules, supports, photo staging."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from PIL import Image

from carto.errors import InvalidInput, NotAllowed
from carto.models import Pin, WriteCounter
from carto.services import abuse
from carto.services.pins import pin_submit
from carto.services.supports import pin_support, pin_unsupport
from tests.factories import BELLEVILLE, make_pin


def submit(**extra):
    values = {
        "client_uuid": uuid.uuid4(),
        "kind": "need",
        "theme_slug": "mobilite",
        "text": "Le trottoir est trop étroit pour les poussettes",
        "location": Point(*BELLEVILLE, srid=4326),
        "device_hash": "d" * 64,
        "ip_hash": "i" * 64,
    }
    values.update(extra)
    return pin_submit(**values)


@pytest.mark.parametrize(
    ("text", "spammy"),
    [
        ("Le lampadaire de la rue est cassé depuis un mois", False),
        ("Besoin d'aide pour ma déclaration CAF, je n'ai pas d'imprimante", False),
        ("Visitez http://promo.example.com et www.casino.xyz", True),
        ("ACHETEZ MAINTENANT DES MONTRES PAS CHERES http://x.ru", True),
        ("AAAAAAAAAAAA CLIQUEZ ICI TOUT DE SUITE MAINTENANT", True),
        ("TROTTOIR CASSÉ DEVANT L'ÉCOLE", False),
    ],
)
def test_spam_score_flags_links_shouting_and_repetition(text, spammy):
    assert (abuse.spam_score(text) >= abuse.SPAM_THRESHOLD) is spammy


@pytest.mark.django_db
def test_the_same_text_resent_by_a_device_raises_its_score():
    submit(text="Il faut plus de bancs")
    history = abuse.device_history("d" * 64, "Il faut plus de bancs")
    assert history.same_text == 1
    assert abuse.spam_score("Il faut plus de bancs", history=history) > abuse.spam_score(
        "Il faut plus de bancs"
    )


@pytest.mark.django_db
def test_counter_hit_counts_within_the_hour_and_carries_the_previous_window():
    now = timezone.now().replace(minute=10)
    assert [abuse.counters_hit(["k", "j"], now=now)["k"].current for _ in range(3)] == [1, 2, 3]
    assert abuse.counters_hit(["k"], now=now + dt.timedelta(hours=1)) == {"k": abuse.Hits(1, 3)}
    assert WriteCounter.objects.filter(key="k").count() == 2
    assert WriteCounter.objects.get(key="j").count == 3


@pytest.mark.django_db
def test_the_throttle_slides_over_the_clock_hour_and_says_when_to_retry():
    """Attack pass: the hourly throttles were clock hours, Retry-After ran to the top of the hour."""
    start = timezone.now().replace(minute=50, second=0, microsecond=0)
    for _ in range(10):
        abuse.throttle({"burst": 10}, "x", now=start)
    # 10:50 + 15 min = 11:05: a clock hour would start afresh; the last hour still holds the 10.
    later = start + dt.timedelta(minutes=15)
    with pytest.raises(abuse.Throttled) as refused, transaction.atomic():  # a refusal rolls back its count
        abuse.throttle({"burst": 10}, "x", now=later)
    # Under the limit again once the previous window's weight fades: well before 12:00, after 11:05.
    assert 0 < refused.value.retry_after < 3600
    abuse.throttle({"burst": 10}, "x", now=later + dt.timedelta(seconds=refused.value.retry_after + 60))


@pytest.mark.django_db
def test_an_old_device_is_no_longer_new():
    for i in range(3):
        submit(text=f"Besoin {i}")
    Pin.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert not abuse.new_device_over_limit(abuse.device_history("d" * 64, ""))


@pytest.mark.django_db
def test_pin_submit_refuses_an_unknown_theme_and_a_non_aidant_mediation(resident):
    with pytest.raises(InvalidInput):
        submit(theme_slug="nope")
    with pytest.raises(NotAllowed):
        submit(author=resident, structure_source_id="x", consent=True)
    assert Pin.objects.count() == 0


@pytest.mark.django_db
def test_a_replay_with_a_photo_does_not_attach_a_second_photo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "PNG")
    key = uuid.uuid4()
    first = submit(client_uuid=key, photo=buf.getvalue())
    again = submit(client_uuid=key, photo=buf.getvalue())
    assert first.created and not again.created
    assert again.pin.photos.count() == 1


@pytest.mark.django_db
def test_supports_are_counted_exactly_and_withdrawn(resident):
    pin = make_pin()
    assert pin_support(pin_id=pin.pk, device_hash="a" * 64).created
    assert not pin_support(pin_id=pin.pk, device_hash="a" * 64).created
    assert pin_support(pin_id=pin.pk, user=resident).support_count == 2
    assert pin_unsupport(pin_id=pin.pk, device_hash="a" * 64).support_count == 1


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "PNG")
    return buf.getvalue()


def _photo_files(root) -> list:
    return (
        sorted(p for p in (root / "photos").rglob("*") if p.is_file()) if (root / "photos").exists() else []
    )


def test_an_error_after_the_commit_keeps_the_photo_of_the_committed_pin(
    committed_db, settings, tmp_path, monkeypatch
):
    """The crash drill's missing photo: a failing after-commit hook (the connection dropped) used to make the
    staging block delete the file of a pin that was already committed."""
    from django.db import transaction

    from carto.services import pins as pins_service

    settings.MEDIA_ROOT = tmp_path
    attach = pins_service.photo_attach

    def attach_then_fail_after_commit(**kwargs):
        photo = attach(**kwargs)
        transaction.on_commit(lambda: (_ for _ in ()).throw(ConnectionError("dropped after commit")))
        return photo

    monkeypatch.setattr(pins_service, "photo_attach", attach_then_fail_after_commit)
    key = uuid.uuid4()
    with pytest.raises(ConnectionError):
        submit(client_uuid=key, photo=_png())
    pin = Pin.objects.get(client_uuid=key)
    (photo,) = pin.photos.all()
    assert _photo_files(tmp_path) == [tmp_path / photo.file.name]


def test_an_error_before_the_commit_leaves_neither_pin_nor_photo_file(
    committed_db, settings, tmp_path, monkeypatch
):
    from carto.services import pins as pins_service

    settings.MEDIA_ROOT = tmp_path
    attach = pins_service.photo_attach

    def attach_then_fail(**kwargs):
        attach(**kwargs)
        raise ConnectionError("dropped before commit")

    monkeypatch.setattr(pins_service, "photo_attach", attach_then_fail)
    key = uuid.uuid4()
    with pytest.raises(ConnectionError):
        submit(client_uuid=key, photo=_png())
    assert not Pin.objects.filter(client_uuid=key).exists()
    assert _photo_files(tmp_path) == []
