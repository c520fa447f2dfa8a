"""Hostile values on every endpoint of the OpenAPI schema (and Open311's): never a server error.

The attack pass found 40 server errors from values like these; each must be a 4xx in the one error shape.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import pytest
from django.contrib.auth.models import User

from carto.models import ApiKey
from tests.factories import make_pin

pytestmark = pytest.mark.django_db

HOSTILE = [
    "²",  # a Unicode digit: str.isdigit() takes it, int() does not
    "٣",
    "2024-13-45",
    "0000-01-01",
    "2024-02-30",
    "2024-13-45T00:00:00",
    "1" * 400,
    "-1",
    "1e309",
    "nan",
    "\x00",
    "2.3,-90,2.4,90",
    "-180,-90,180,90",
    "x" * 5000,
    "<a>&amp;</a>",
]
DEEP = "[" * 20_000


def schema_operations(client):
    """(method, path, query parameters, form fields) of every operation of the schema; an Open311 path's
    {fmt} is both json and xml, any other path parameter is 1."""
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
                form = (
                    operation.get("requestBody", {})
                    .get("content", {})
                    .get("application/x-www-form-urlencoded")
                )
                fields = list(_component(schema, form["schema"])["properties"]) if form else []
                for fmt in ("json", "xml") if "{fmt}" in path else ("",):
                    concrete = re.sub(r"\{[^}]+\}", "1", path.replace("{fmt}", fmt))
                    yield method, concrete, params, fields


def _component(schema: dict, ref: dict) -> dict:
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def assert_client_error(response, what):
    assert response.status_code < 500, (what, response.status_code, response.content[:200])
    if response.status_code < 400:
        return
    content_type = response["Content-Type"]
    if response.wsgi_request.path.startswith("/open311/"):
        # The spec's own error list, in the format the suffix asked for.
        if content_type.startswith("text/xml"):
            error = ET.fromstring(response.content).find("error")  # noqa: S314 (our own answer)
            assert int(error.find("code").text) == response.status_code, what
            assert error.find("description").text, what
        else:
            assert content_type.startswith("application/json"), what
            assert response.json()[0]["code"] == response.status_code, what
            assert response.json()[0]["description"], what
    elif content_type.startswith("application/json"):
        assert "error" in response.json(), what


@pytest.fixture
def signed_in(client):
    make_pin()  # pin 1 may exist for the {id} routes
    user = User.objects.create_superuser("hostile-admin", "admin@example.org", "x")
    client.force_login(user)
    return client


def test_hostile_query_values_on_every_get_endpoint_are_4xx_never_5xx(signed_in):
    checked = open311 = 0
    for method, path, params, _ in schema_operations(signed_in):
        if method != "get":
            continue
        for name in params:
            for value in HOSTILE:
                assert_client_error(signed_in.get(path, {name: value}), (path, name, value))
                checked += 1
                open311 += path.startswith("/open311/")
    assert checked > 300  # the schema lists the parameters: this test sees them all
    assert open311 > 200  # Open311's filters included, in JSON and in XML


def test_hostile_form_values_on_every_form_endpoint_are_4xx_never_5xx(client, db):
    """Open311's POST with a valid api_key: each field in turn takes each hostile value."""
    _, key = ApiKey.issue(name="hostile")
    valid = {"service_code": "acceder-droits", "lat": "48.8718", "long": "2.3848", "description": "Un besoin"}
    checked = 0
    for method, path, _, fields in schema_operations(client):
        for name in fields:
            if name == "api_key":
                continue
            for value in HOSTILE:
                form = {**valid, "api_key": key, name: value}
                assert_client_error(getattr(client, method)(path, form), (path, name, value))
                checked += 1
    assert checked > 100


def test_json_nested_past_the_parser_depth_is_a_400_on_every_write_endpoint(signed_in):
    for method, path, _, _ in schema_operations(signed_in):
        if method in ("post", "patch", "put"):
            response = getattr(signed_in, method)(path, DEEP, content_type="application/json")
            assert_client_error(response, (method, path))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/open311/v2/services/\x00.json", {}),
        ("/open311/v2/requests.json", {"service_code": "\x00"}),
        ("/open311/v2/requests.json", {"start_date": "2024-13-45T00:00:00"}),
        ("/open311/v2/requests.json", {"service_request_id": "²"}),
        ("/open311/v2/requests/²/.json", {}),
        ("/api/coverage/gaps.geojson", {"min_territories": "²"}),
        ("/api/pins/", {"bbox": "2.3,-90,2.4,90"}),
        ("/api/actors/", {"bbox": "-180,-90,180,90"}),
    ],
)
def test_open311_and_page_endpoints_answer_4xx_json_to_hostile_values(client, path, params):
    response = client.get(path, params)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")


def test_a_whole_world_bbox_is_valid_and_lists_the_pins(client):
    pin = make_pin()
    ids = [f["id"] for f in client.get("/api/pins/", {"bbox": "-180,-90,180,90"}).json()["features"]]
    assert pin.pk in ids


def test_a_400_digit_latitude_and_a_huge_form_body_are_refused(client):
    body = {
        "client_uuid": "5d8b2f3e-8b3c-4d7e-9a55-1f2b3c4d5e6f",
        "kind": "need",
        "theme": "acceder-droits",
        "text": "x",
        "lat": int("1" * 400),
        "lon": 2.38,
    }
    response = client.post("/api/pins/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    huge = client.post(
        "/open311/v2/requests.json", b"a" * 10_000_001, content_type="application/x-www-form-urlencoded"
    )
    assert huge.status_code == 413 and huge.json() == [
        {"code": 413, "description": "The request body is too large."}
    ]
