"""Attack pass: request shapes Django refuses before any view (too many fields or files, a forged Host) are
4xx in the API's error shape (Open311's list under /open311/), never a 500 or an HTML page."""

from __future__ import annotations

import pytest
from django.test import Client

from carto.models import ApiKey, Pin

pytestmark = pytest.mark.django_db

BOUNDARY = "attackboundary"


def multipart(fields: int = 0, files: int = 0) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n1\r\n' for i in range(fields)
    ]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo{i}"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\nx\r\n"
        for i in range(files)
    ]
    return "".join([*parts, f"--{BOUNDARY}--\r\n"]).encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.mark.parametrize(
    "body", [multipart(fields=1200), multipart(files=120)], ids=["too_many_fields", "too_many_files"]
)
@pytest.mark.parametrize("path", ["/api/pins/", "/api/auth/token/", "/api/pins/1/comments/"])
def test_a_form_with_too_many_parts_is_a_400_in_the_error_shape(client, path, body):
    response = client.post(path, body, content_type=MULTIPART, HTTP_X_DEVICE_TOKEN="t" * 32)
    assert response.status_code == 400, response.content[:200]
    assert response.json()["error"]["code"] == "malformed_request"
    assert not Pin.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_post_with_too_many_fields_is_the_spec_error_list(client, fmt):
    _, key = ApiKey.issue(name="attack")
    body = "&".join([f"api_key={key}", *(f"f{i}=1" for i in range(1200))])
    response = client.post(
        f"/open311/v2/requests.{fmt}", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400, response.content[:200]
    if fmt == "json":
        assert response.json() == [{"code": 400, "description": "The request is malformed."}]
    else:
        assert b"<code>400</code>" in response.content
    assert not Pin.objects.exists()


def test_a_forged_host_under_the_api_is_a_json_400():
    response = Client(HTTP_HOST="evil.example").get("/api/themes/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "bad_request"


def test_a_forged_host_under_open311_is_the_spec_error_list():
    response = Client(HTTP_HOST="evil.example").get("/open311/v2/services.xml")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/xml")
    assert b"<code>400</code>" in response.content
