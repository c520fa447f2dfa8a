"""POST/DELETE /api/pins/{id}/support/: one "moi aussi" per device or user, counted exactly."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from carto.models import Pin, Support
from tests.factories import make_pin

TOKEN = "device-token-0123456789abcdef"


@pytest.mark.django_db
def test_a_device_supports_once_and_a_repeat_is_200(client):
    pin = make_pin()
    first = client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    again = client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json() == {"support_count": 1, "supported": True}
    assert Support.objects.get().device_hash != TOKEN


@pytest.mark.django_db
def test_two_devices_and_a_user_make_three_supports(client, resident):
    pin = make_pin()
    client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN="other-device-token-1234")
    client.force_login(resident)
    response = client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert response.json() == {"support_count": 3, "supported": True}
    assert Support.objects.filter(user=resident).count() == 1
    pin.refresh_from_db()
    assert pin.support_count == 3


@pytest.mark.django_db
def test_a_support_is_withdrawn_with_delete(client):
    pin = make_pin()
    client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    response = client.delete(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert response.status_code == 200
    assert response.json() == {"support_count": 0, "supported": False}
    again = client.delete(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert again.json() == {"support_count": 0, "supported": False}


@pytest.mark.django_db
def test_the_support_count_shows_in_the_public_feature(client):
    pin = make_pin()
    client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert client.get(f"/api/pins/{pin.pk}/").json()["properties"]["support_count"] == 1


@pytest.mark.django_db
def test_a_pending_pin_cannot_be_supported(client):
    pin = make_pin(status=Pin.Status.PENDING)
    assert client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN).status_code == 404


def test_fifty_parallel_supports_by_one_device_make_one_row(committed_db):
    pin = make_pin()
    statuses: list = []
    barrier = threading.Barrier(50)

    def tap():
        try:
            barrier.wait()
            statuses.append(
                Client().post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 49 + [201]
    assert Support.objects.count() == 1
    pin.refresh_from_db()
    assert pin.support_count == 1


def test_parallel_supports_by_many_devices_are_all_counted(committed_db):
    pin = make_pin()
    barrier = threading.Barrier(20)

    def tap(i):
        try:
            barrier.wait()
            Client().post(
                f"/api/pins/{pin.pk}/support/",
                HTTP_X_DEVICE_TOKEN=f"device-token-number-{i:04d}",
                REMOTE_ADDR=f"198.51.100.{i}",  # 20 residents on 20 networks (one network is bounded)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pin.refresh_from_db()
    assert pin.support_count == Support.objects.count() == 20


@pytest.mark.django_db
def test_forty_fresh_device_tokens_from_one_network_cannot_inflate_a_pin(client, settings):
    """Attack pass: 40 supports from one IP with 40 new tokens gave support_count 40."""
    settings.CARTO_SUPPORTS_PER_NETWORK_PER_PIN_HOUR = 8
    pin = make_pin()
    answers = [
        client.post(
            f"/api/pins/{pin.pk}/support/",
            HTTP_X_DEVICE_TOKEN=f"rotating-token-{n:04d}",
            REMOTE_ADDR="203.0.113.7",
        )
        for n in range(40)
    ]
    assert [a.status_code for a in answers].count(201) == 8
    refused = answers[-1]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    pin.refresh_from_db()
    assert pin.support_count == 8  # nothing half-written by the refused ones
    # Another network, and a signed-in account on the same one, still count.
    other = client.post(
        f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN="neighbour-token-0001", REMOTE_ADDR="198.51.100.4"
    )
    assert other.status_code == 201 and other.json()["support_count"] == 9
