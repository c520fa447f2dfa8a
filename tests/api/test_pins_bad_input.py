"""Bad input to the pins API: each case is a 4xx in the one error shape, and nothing is written."""

from __future__ import annotations

import io
import json
import struct
import uuid
import zlib

import pytest
from PIL import Image

from carto.models import Pin, PinPhoto, Support
from tests.factories import BELLEVILLE, VERSAILLES, make_pin

TOKEN = "device-token-0123456789abcdef"


def body(**overrides) -> dict:
    data = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "need",
        "theme": "acceder-droits",
        "text": "Pas d'endroit pour imprimer mes papiers CAF",
        "location": {"type": "Point", "coordinates": list(BELLEVILLE)},
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()
point = {"type": "Point", "coordinates": list(BELLEVILLE)}

JSON_CASES = [
    ("unknown_field", body(author="moi"), 400, "unknown_field"),
    ("missing_kind", body(kind=_DROP), 400, "missing_field"),
    ("missing_theme", body(theme=_DROP), 400, "missing_field"),
    ("missing_text", body(text=_DROP), 400, "missing_field"),
    ("missing_location", body(location=_DROP), 400, "missing_field"),
    ("missing_client_uuid", body(client_uuid=_DROP), 400, "missing_field"),
    ("bad_client_uuid", body(client_uuid="not-a-uuid"), 400, "invalid_uuid"),
    ("bad_kind", body(kind="complaint"), 400, "invalid_kind"),
    ("unknown_theme", body(theme="no-such-theme"), 400, "unknown_theme"),
    ("theme_null", body(theme=None), 400, "missing_field"),
    ("theme_group_not_leaf", body(theme="numerique"), 400, "invalid_theme"),
    ("coordinates_as_strings", body(location={"type": "Point", "coordinates": ["2.379", "48.87"]}), 400,
     "invalid_coordinates"),
    ("lat_lon_as_strings", body(location=_DROP, lat="48.87", lon="2.379"), 400, "invalid_coordinates"),
    ("lat_without_lon", body(location=_DROP, lat=48.87), 400, "missing_field"),
    ("coordinates_bool", body(location={"type": "Point", "coordinates": [True, 48.87]}), 400,
     "invalid_coordinates"),
    ("swapped", body(location={"type": "Point", "coordinates": [48.87, 2.379]}), 400, "coordinates_swapped"),
    ("lat_out_of_range", body(location={"type": "Point", "coordinates": [2.379, 91]}), 400,
     "invalid_coordinates"),
    ("lon_out_of_range", body(location={"type": "Point", "coordinates": [181, 48.87]}), 400,
     "invalid_coordinates"),
    ("outside_metropole", body(location={"type": "Point", "coordinates": list(VERSAILLES)}), 400,
     "outside_metropole"),
    ("geojson_linestring", body(location={"type": "LineString", "coordinates": [[2.37, 48.87], [2.38, 48.88]]}),
     400, "invalid_location"),
    ("geojson_feature", body(location={"type": "Feature", "geometry": point}), 400, "invalid_location"),
    ("geojson_one_coordinate", body(location={"type": "Point", "coordinates": [2.379]}), 400, "invalid_location"),
    ("both_location_forms", body(lat=48.87, lon=2.379), 400, "invalid_location"),
    ("empty_text", body(text=""), 400, "invalid_text"),
    ("spaces_only_text", body(text="   \n\t "), 400, "invalid_text"),
    ("text_too_long", body(text="a" * 1001), 400, "invalid_text"),
    ("text_not_a_string", body(text=["a"]), 400, "invalid_text"),
    ("nul_byte_in_text", body(text="abc\x00def"), 400, "invalid_text"),
    ("mediated_by_anonymous", body(mediated={"structure": "x", "consent": True}), 403, "not_an_aidant"),
    ("mediated_without_consent", body(mediated={"structure": "x"}), 400, "consent_required"),
    ("mediated_unknown_field", body(mediated={"structure": "x", "consent": True, "name": "Mme X"}), 400,
     "invalid_mediated"),
    ("body_is_a_list", [body()], 400, "malformed_request"),
]  # fmt: skip


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "data", "status", "code"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_bad_json_pin_is_refused_and_nothing_is_written(client, case, data, status, code):
    before = Pin.objects.count()
    response = client.post(
        "/api/pins/", json.dumps(data), content_type="application/json", HTTP_X_DEVICE_TOKEN=TOKEN
    )
    assert_error(response, status, code)
    assert Pin.objects.count() == before


RAW_CASES = [
    ("malformed_json", b'{"kind": "need",', "application/json", 400, "malformed_request"),
    ("nan_coordinates", json.dumps(body()).replace("2.379", "NaN").encode(), "application/json", 400,
     "malformed_request"),
    ("infinity_coordinates", json.dumps(body()).replace("2.379", "Infinity").encode(), "application/json", 400,
     "malformed_request"),
    # "xyz", not hex: the replacement must never hit the random client_uuid.
    ("lone_surrogate", json.dumps(body(text="xyz")).replace("xyz", "\\ud800xyz").encode(), "application/json", 400,
     "invalid_text"),
    ("wrong_content_type", json.dumps(body()).encode(), "text/plain", 415, "unsupported_media_type"),
    ("form_encoded", b"kind=need", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "raw", "content_type", "status", "code"), RAW_CASES, ids=[c[0] for c in RAW_CASES]
)
def test_bad_raw_body_is_refused_and_nothing_is_written(client, case, raw, content_type, status, code):
    response = client.post("/api/pins/", raw, content_type=content_type, HTTP_X_DEVICE_TOKEN=TOKEN)
    assert_error(response, status, code)
    assert Pin.objects.count() == 0


@pytest.mark.django_db
def test_a_body_too_large_is_refused_with_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5_000
    response = client.post("/api/pins/", json.dumps(body(text="a" * 6_000)), content_type="application/json")
    assert_error(response, 413, "body_too_large")
    assert Pin.objects.count() == 0


@pytest.mark.django_db
def test_a_short_device_token_is_refused(client):
    response = client.post("/api/pins/", body(), content_type="application/json", HTTP_X_DEVICE_TOKEN="short")
    assert_error(response, 400, "invalid_device_token")
    assert Pin.objects.count() == 0


def _png(size=(20, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (0, 120, 0)).save(buf, "PNG")
    return buf.getvalue()


def _huge_png() -> bytes:
    # A few bytes whose header declares 30000 x 30000 pixels: must be refused before any decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PHOTO_CASES = [
    ("not_an_image", lambda: b"%PDF-1.4 this is not an image", "photo_not_an_image"),
    ("text_named_jpg", lambda: b"hello world, not a jpeg", "photo_not_an_image"),
    ("truncated_image", lambda: _png((300, 300))[:200], "photo_truncated"),
    ("huge_dimensions", _huge_png, "photo_too_many_pixels"),
]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "make", "code"), PHOTO_CASES, ids=[c[0] for c in PHOTO_CASES])
def test_a_bad_photo_is_refused_and_neither_pin_nor_file_is_written(client, media_root, case, make, code):
    form = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body().items()}
    form["photo"] = io.BytesIO(make())
    form["photo"].name = "photo.jpg"
    response = client.post("/api/pins/", form, HTTP_X_DEVICE_TOKEN=TOKEN)
    assert_error(response, 400, code)
    assert Pin.objects.count() == 0 and PinPhoto.objects.count() == 0
    assert not (media_root / "photos").exists() or not list((media_root / "photos").iterdir())


@pytest.mark.django_db
def test_support_of_an_unknown_pin_is_404(client):
    response = client.post("/api/pins/999999/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert_error(response, 404, "not_found")
    assert Support.objects.count() == 0


@pytest.mark.django_db
def test_support_of_a_hidden_pin_is_404(client):
    pin = make_pin(status="hidden")
    response = client.post(f"/api/pins/{pin.pk}/support/", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert_error(response, 404, "not_found")
    assert Support.objects.count() == 0


@pytest.mark.django_db
def test_support_without_a_device_token_or_account_is_refused(client):
    pin = make_pin()
    response = client.post(f"/api/pins/{pin.pk}/support/")
    assert_error(response, 400, "device_token_required")
    assert Support.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_with_one_bad_item_still_records_the_others(client):
    items = [body(), body(text="   "), body(theme="nope"), body()]
    response = client.post("/api/pins/batch/", {"pins": items}, content_type="application/json",
                           HTTP_X_DEVICE_TOKEN=TOKEN)  # fmt: skip
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 400, 400, 201]
    assert [r.get("error", {}).get("code") for r in results] == [None, "invalid_text", "unknown_theme", None]
    assert Pin.objects.count() == 2


@pytest.mark.django_db
def test_a_batch_that_is_not_a_list_is_refused(client):
    response = client.post("/api/pins/batch/", {"pins": body()}, content_type="application/json")
    assert_error(response, 400, "malformed_request")
    assert Pin.objects.count() == 0


# JSON types are strict: DRF's fields would coerce these, the pins API never did.
STRICT_CASES = [
    ("uuid_as_integer", body(client_uuid=123), "invalid_uuid"),
    ("text_as_number", body(text=42), "invalid_text"),
    ("theme_as_number", body(theme=7), "unknown_theme"),
    ("consent_as_one", body(mediated={"structure": "x", "consent": 1}), "consent_required"),
    ("lat_as_boolean", body(location=_DROP, lat=True, lon=2.379), "invalid_coordinates"),
    ("coordinates_nan_string", body(location={"type": "Point", "coordinates": ["nan", 48.87]}), "invalid_coordinates"),
    ("location_extra_member", body(location={**point, "crs": "EPSG:4326"}), "invalid_location"),
    ("mediated_not_an_object", body(mediated="x"), "invalid_mediated"),
    ("language_too_long", body(language="x" * 17), "invalid_language"),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "data", "code"), STRICT_CASES, ids=[c[0] for c in STRICT_CASES])
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(client, case, data, code):
    response = client.post(
        "/api/pins/", json.dumps(data), content_type="application/json", HTTP_X_DEVICE_TOKEN=TOKEN
    )
    assert_error(response, 400, code)
    assert Pin.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_with_another_member_than_pins_is_refused(client):
    response = client.post(
        "/api/pins/batch/", {"pins": [body()], "session": "x"}, content_type="application/json"
    )
    assert_error(response, 400, "malformed_request")
    assert Pin.objects.count() == 0
