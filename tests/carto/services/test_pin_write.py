"""pin_create's two statements: the preflight (carto_pin_preflight, with the throttle counters) and the INSERT
that queues the clustering job itself (carto.sql.pin_insert)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from carto.errors import InvalidInput
from carto.geo import to_storage
from carto.models import Pin, Theme, WriteCounter
from carto.services import abuse
from carto.services.pins import _counting, pin_submit
from carto.sql.placement import pin_preflight
from carto.tasks import cluster_pin
from tests.factories import BELLEVILLE, VERSAILLES, make_pin

pytestmark = pytest.mark.django_db

DEVICE, NETWORK = "d" * 64, "i" * 64
JOB_COLUMNS = "queue_name, task_name, priority, lock, queueing_lock, args::text, scheduled_at, status"


def submit(location=BELLEVILLE, **extra):
    values = {
        "client_uuid": uuid.uuid4(), "kind": "need", "theme_slug": "mobilite",
        "text": "Le trottoir est trop étroit pour les poussettes", "location": Point(*location, srid=4326),
        "device_hash": DEVICE, "ip_hash": NETWORK,
    }  # fmt: skip
    values.update(extra)
    return pin_submit(**values)


def _counts() -> dict[str, int]:
    return dict(WriteCounter.objects.values_list("key", "count"))


def _job(pin_id: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {JOB_COLUMNS} FROM procrastinate_jobs WHERE (args ->> 'pin_id')::bigint = %s",  # noqa: S608
            [pin_id],
        )
        (row,) = cursor.fetchall()
        cursor.execute(
            "SELECT e.type FROM procrastinate_events e JOIN procrastinate_jobs j ON j.id = e.job_id"
            " WHERE (j.args ->> 'pin_id')::bigint = %s",
            [pin_id],
        )
        return row, [event for (event,) in cursor.fetchall()]


def test_the_job_the_insert_queues_is_the_row_task_defer_would_queue():
    pin = make_pin()
    queued = _job(pin.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    cluster_pin.defer(pin_id=pin.pk)
    assert _job(pin.pk) == queued
    assert queued[1] == ["deferred"] and json.loads(queued[0][5]) == {"pin_id": pin.pk}


def test_the_inserted_row_holds_every_field_of_the_returned_pin():
    pin = submit().pin
    stored = Pin.objects.get(pk=pin.pk)
    for field in Pin._meta.concrete_fields:
        mine, theirs = getattr(pin, field.attname), getattr(stored, field.attname)
        if hasattr(mine, "equals_exact"):
            assert mine.equals_exact(theirs, 1e-6) and mine.srid == theirs.srid, field.name
        else:
            assert mine == theirs, field.name
    assert not pin._state.adding


def test_a_replay_and_a_pin_outside_the_metropole_count_nothing():
    first = submit()
    counted = _counts()
    assert set(counted) == {f"pin:device:{DEVICE}", f"pin:ip:{NETWORK}", f"pin:area:{first.pin.commune_id}",
                            f"pin:new-device:{NETWORK}"}  # fmt: skip
    assert not submit(client_uuid=first.pin.client_uuid).created
    with pytest.raises(InvalidInput):
        submit(location=VERSAILLES)
    assert _counts() == counted


def test_a_throttled_pin_takes_back_its_counts_and_leaves_no_pin_and_no_job(settings):
    settings.CARTO_THROTTLE_DEVICE_PER_HOUR = 1
    submit()
    counted = _counts()
    with pytest.raises(abuse.Throttled):
        submit(text="Un autre besoin")
    assert _counts() == counted
    assert Pin.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs")
        assert cursor.fetchone()[0] == 1


@pytest.mark.parametrize(
    "age",
    [None, dt.timedelta(hours=1), abuse.NEW_DEVICE_WINDOW, abuse.NEW_DEVICE_WINDOW + dt.timedelta(seconds=1)],
)
def test_the_preflight_counts_a_new_device_exactly_as_is_new_device_says(age):
    now = timezone.now()
    if age is not None:
        Pin.objects.filter(pk=make_pin(device_hash=DEVICE).pk).update(created_at=now - age)
    history = abuse.device_history(DEVICE, "")
    exact = to_storage(Point(*BELLEVILLE, srid=4326))
    pre = pin_preflight(
        point=exact, client_uuid=uuid.uuid4(), theme=Theme.objects.get(slug="mobilite"), device_hash=DEVICE,
        text="", blur_candidates=[], now=now,
        counting=_counting(device_hash=DEVICE, ip_hash=NETWORK, anonymous=True, now=now),
    )  # fmt: skip
    assert (f"pin:new-device:{NETWORK}" in pre.hits) is abuse.is_new_device(history, now=now)
    assert (pre.first_pin_at is None) is (age is None)


def test_a_signed_in_author_never_counts_as_a_new_device(resident):
    submit(author=resident)
    assert f"pin:new-device:{NETWORK}" not in _counts()
