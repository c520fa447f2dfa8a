"""GET /media/photos/<name>: a photo's URL stops working when its pin is hidden or deleted."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from carto.models import Pin
from carto.services.pin_photos import photo_url, pin_photo_add
from tests.factories import make_pin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _photo_url(client) -> tuple[Pin, str]:
    pin = make_pin()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "JPEG")
    photo = pin_photo_add(pin=pin, data=buffer.getvalue())
    return pin, photo_url(photo.file.name)


def test_a_hidden_pins_photo_url_is_a_404_for_the_public_and_comes_back_on_restore(client, moderator):
    pin, url = _photo_url(client)
    public = Client()
    shown = public.get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert "max-age=300" in shown["Cache-Control"]
    moderation = Client()
    moderation.force_login(moderator)
    hide = f"/api/moderation/pins/{pin.pk}/hide/"
    assert moderation.post(hide, {"reason": "Un visage"}, content_type="application/json").status_code == 200
    gone = public.get(url)
    never = public.get("/media/photos/" + "0" * 32 + ".jpg")
    assert gone.status_code == never.status_code == 404 and gone.content == never.content  # no oracle
    # The moderator still sees it (to decide on a restore), and nothing caches that answer.
    seen = moderation.get(url)
    assert seen.status_code == 200 and seen["Cache-Control"] == "no-store"
    restore = f"/api/moderation/pins/{pin.pk}/restore/"
    assert moderation.post(restore, {"reason": "Flou"}, content_type="application/json").status_code == 200
    assert public.get(url).status_code == 200


def test_a_deleted_pins_photo_file_is_not_served_before_cleanup_removes_it(client):
    pin, url = _photo_url(client)
    Pin.objects.filter(pk=pin.pk).delete()
    assert Client().get(url).status_code == 404
    assert Client().get("/media/photos/" + "0" * 32 + ".jpg").status_code == 404
