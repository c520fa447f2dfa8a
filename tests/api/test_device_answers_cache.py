"""Attack pass: an answer that depends on the X-Device-Token (a pin's owner sees its held pin and why) must
never be stored by a shared cache and served to someone else; public answers stay cacheable."""

from __future__ import annotations

import pytest

from carto.services.privacy import keyed_hash
from tests.factories import make_pin

pytestmark = pytest.mark.django_db

TOKEN = "owner-device-token-0123456789"


def owner_pin(**extra):
    return make_pin(device_hash=keyed_hash(TOKEN, purpose="device"), **extra)


@pytest.mark.parametrize(
    "path",
    ["/api/pins/{id}/", "/api/pins/mine/?ids={id}", "/api/pins/{id}/timeline/"],
)
def test_an_answer_read_with_the_device_token_is_private_and_varies_on_it(client, path):
    pin = owner_pin()
    pin.status = "pending"
    pin.status_reason = "held: new device"
    pin.save(update_fields=["status", "status_reason"])
    response = client.get(path.format(id=pin.pk), HTTP_X_DEVICE_TOKEN=TOKEN)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "X-Device-Token" in response["Vary"]


def test_a_strangers_answer_varies_on_the_token_too(client):
    pin = owner_pin()
    response = client.get(f"/api/pins/{pin.pk}/")
    assert "X-Device-Token" in response["Vary"]


def test_public_answers_stay_cacheable_with_a_device_token(client):
    response = client.get("/api/themes/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert "public" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]
    assert "X-Device-Token" not in response.get("Vary", "")
