"""The pins API's input and its OpenAPI schema cannot drift: what the code accepts is what the schema lists,
and a client written from the schema alone can post a mediated pin."""

from __future__ import annotations

import json
import uuid

import jsonschema
import pytest
from rest_framework import serializers

from api.serializers.inputs import StrictInput
from api.serializers.pin_input import (
    PinBatchInput,
    PinCreateFormInput,
    PinCreateInput,
    PinPhotoInput,
    PointQuery,
    SimilarQuery,
)
from carto.models import Actor, Pin
from tests.factories import BELLEVILLE

TOKEN = "device-token-0123456789abcdef"

# (path, method, media type, the serializer the view validates with)
BODIES = [
    ("/api/pins/", "post", "application/json", PinCreateInput),
    ("/api/pins/", "post", "multipart/form-data", PinCreateFormInput),
    ("/api/pins/batch/", "post", "application/json", PinBatchInput),
    ("/api/pins/{id}/photos/", "post", "multipart/form-data", PinPhotoInput),
]
QUERIES = [("/api/pins/similar/", SimilarQuery), ("/api/places/near/", PointQuery)]


@pytest.fixture(scope="module")
def openapi(django_db_setup, django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", {"format": "json"}).json()


def resolve(document: dict, schema: dict) -> dict:
    """A schema with its $ref (and drf-spectacular's single allOf wrapping a $ref) followed."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", [])) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema


def accepted(serializer: serializers.Serializer) -> dict:
    """The fields the code accepts, nested objects and list items included, as a tree of names."""
    tree = {}
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListField) and isinstance(field.child, serializers.Serializer):
            field = field.child
        tree[name] = accepted(field) if isinstance(field, serializers.Serializer) else None
    return tree


def documented(document: dict, schema: dict, strict_paths: list, path: str = "") -> dict:
    """The same tree read from the schema; notes which objects forbid other properties."""
    schema = resolve(document, schema)
    if schema.get("additionalProperties") is False:
        strict_paths.append(path)
    tree = {}
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(document, prop)
        if prop.get("type") == "array" and "$ref" in prop.get("items", {}):
            prop = resolve(document, prop["items"])
        has_fields = prop.get("type") == "object" or "properties" in prop
        tree[name] = documented(document, prop, strict_paths, f"{path}.{name}") if has_fields else None
    return tree


def strict(serializer: serializers.Serializer, path: str = "") -> list:
    paths = [path] if isinstance(serializer, StrictInput) else []
    for name, field in serializer.fields.items():
        if isinstance(field, serializers.ListField) and isinstance(field.child, serializers.Serializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            paths += strict(field, f"{path}.{name}")
    return paths


@pytest.mark.parametrize(
    ("path", "method", "media", "serializer"), BODIES, ids=[f"{b[0]} {b[2]}" for b in BODIES]
)
def test_every_field_a_pin_body_accepts_is_in_the_schema(openapi, path, method, media, serializer):
    body = openapi["paths"][path][method]["requestBody"]["content"][media]["schema"]
    strict_paths: list = []
    assert documented(openapi, body, strict_paths) == accepted(serializer())
    # Where the code refuses unknown fields, the schema forbids them too (and only there).
    assert sorted(strict_paths) == sorted(strict(serializer()))


@pytest.mark.parametrize(("path", "serializer"), QUERIES, ids=[q[0] for q in QUERIES])
def test_every_query_parameter_the_code_reads_is_in_the_schema(openapi, path, serializer):
    parameters = openapi["paths"][path]["get"]["parameters"]
    names = {p["name"] for p in parameters if p["in"] == "query"}
    assert names == set(serializer().fields)
    required = {p["name"] for p in parameters if p["in"] == "query" and p.get("required")}
    assert required == {name for name, field in serializer().fields.items() if field.required}


def example(document: dict, schema: dict, name: str, values: dict):
    """A value for a property, taken from the schema: its only enum value, an object built from its
    properties, or the value this test knows for a name the schema lists."""
    schema = resolve(document, schema)
    if "enum" in schema:
        return values[name] if values.get(name) in schema["enum"] else schema["enum"][0]
    if "properties" in schema:
        return {key: example(document, prop, key, values) for key, prop in schema["properties"].items()}
    return values[name]


def pin_from_schema(document: dict, component: str, structure: str) -> dict:
    schema = document["components"]["schemas"][component]
    values = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "need",
        "theme": "acceder-droits",
        "text": "Besoin d'aide pour remplir un dossier de retraite",
        "language": "fr",
        "lon": BELLEVILLE[0],
        "lat": BELLEVILLE[1],
        "structure": structure,
    }
    # Every property the schema lists except the GeoJSON location: a pin gives lat/lon or location.
    body = {
        name: example(document, prop, name, values)
        for name, prop in schema["properties"].items()
        if name != "location"
    }
    jsonschema.validate(
        body, {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    )
    return body


@pytest.mark.django_db
def test_an_aidant_posts_a_mediated_pin_built_only_from_the_schema(client, aidant, openapi):
    structure = Actor.objects.filter(in_mgp=True).first()
    body = pin_from_schema(openapi, "PinCreateInputRequest", structure.source_id)
    assert body["mediated"] == {"structure": structure.source_id, "consent": True}
    client.force_login(aidant)
    response = client.post(
        "/api/pins/", json.dumps(body), content_type="application/json", HTTP_X_DEVICE_TOKEN=TOKEN
    )
    assert response.status_code == 201, response.content
    pin = Pin.objects.get()
    assert pin.mediated_by == aidant and pin.mediated_structure == structure and pin.consent is True


@pytest.mark.django_db
def test_an_aidant_posts_a_batch_of_mediated_pins_built_only_from_the_schema(client, aidant, openapi):
    structure = Actor.objects.filter(in_mgp=True).first()
    pins = [pin_from_schema(openapi, "PinCreateInputRequest", structure.source_id) for _ in range(2)]
    pins[1]["text"] = "Un second besoin, noté à la même permanence"
    batch = {"pins": pins}
    schema = {"$ref": "#/components/schemas/PinBatchInputRequest", "components": openapi["components"]}
    jsonschema.validate(batch, schema)
    client.force_login(aidant)
    response = client.post(
        "/api/pins/batch/", json.dumps(batch), content_type="application/json", HTTP_X_DEVICE_TOKEN=TOKEN
    )
    assert [r["status"] for r in response.json()["results"]] == [201, 201]
    assert Pin.objects.filter(mediated_by=aidant, consent=True).count() == 2


@pytest.mark.django_db
def test_a_field_the_schema_does_not_list_is_refused_with_unknown_field(client, openapi):
    listed = set(openapi["components"]["schemas"]["PinCreateInputRequest"]["properties"])
    body = {"client_uuid": str(uuid.uuid4()), "kind": "need", "theme": "acceder-droits", "text": "x",
            "lat": BELLEVILLE[1], "lon": BELLEVILLE[0], "author": "Mme X"}  # fmt: skip
    assert "author" not in listed
    response = client.post("/api/pins/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_field"
    assert response.json()["error"]["fields"] == {"author": ["Unknown field(s): author"]}
    assert Pin.objects.count() == 0
