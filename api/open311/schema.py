"""OpenAPI fragments of GeoReport v2: its documents and its error list, as JSON or XML by the suffix."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

FORMAT = OpenApiParameter(
    "fmt", str, OpenApiParameter.PATH, enum=["json", "xml"], description="the answer's format"
)
LOCALE = OpenApiParameter("locale", str, enum=["fr", "en", "ar", "zh"], description="fr by default")

_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": "string", "nullable": True}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": _TEXT,
        "service_name": _TEXT,
        "description": _TEXT,
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": _TEXT,
        "group": _TEXT,
    },
}
SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {"service_code": _TEXT, "attributes": {"type": "array", "items": {"type": "object"}}},
}
SERVICE_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "lat", "long"],
    "properties": {
        "service_request_id": _TEXT,
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _TEXT,
        "service_name": _TEXT,
        "service_code": _TEXT,
        "description": _TEXT,
        "agency_responsible": _TEXT,
        "service_notice": _TEXT,
        "requested_datetime": _NULLABLE_TEXT,
        "updated_datetime": _NULLABLE_TEXT,
        "expected_datetime": _NULLABLE_TEXT,
        "address": _TEXT,
        "address_id": _TEXT,
        "zipcode": _TEXT,
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "media_url": _TEXT,
    },
}
CREATED = {
    "type": "object",
    "required": ["service_request_id", "token"],
    "properties": {"service_request_id": _TEXT, "token": _TEXT, "service_notice": _TEXT, "account_id": _TEXT},
}
TOKEN = {
    "type": "object",
    "required": ["service_request_id", "token"],
    "properties": {"service_request_id": _TEXT, "token": _TEXT},
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "endpoints"],
    "properties": {
        "changeset": _TEXT,
        "contact": _TEXT,
        "key_service": _TEXT,
        "endpoints": {"type": "array", "items": {"type": "object"}},
    },
}
# The spec's error list: [{"code": 400, "description": "…"}], or <errors><error>… in XML.
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _TEXT},
    },
}
_XML = {"type": "string", "description": "the same document in XML"}


def answers(status: int, schema: dict, *errors: int) -> dict:
    """Responses of an Open311 operation: the document at `status`, the error list at the others,
    each as application/json or text/xml."""
    out = {}
    for code, body in [(status, schema), *((e, ERRORS) for e in errors)]:
        out[(code, "application/json")] = OpenApiResponse(body)
        out[(code, "text/xml")] = OpenApiResponse(_XML)
    return out


def many(item: dict) -> dict:
    return {"type": "array", "items": item}
