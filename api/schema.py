"""OpenAPI fragments shared by several views (drf-spectacular cannot infer them)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter

from carto.models import Pin

# A GeoJSON FeatureCollection (the geometry is an annotation drf-spectacular cannot type).
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object"},
                },
            },
        },
    },
}

# The random token an anonymous device keeps; only its keyed hash is stored.
DEVICE_TOKEN = OpenApiParameter(
    "X-Device-Token", {"type": "string", "minLength": 16, "maxLength": 200}, OpenApiParameter.HEADER
)

# A client may name its pin by this header instead of client_uuid (a replay is answered, not re-recorded).
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "format": "uuid"}, OpenApiParameter.HEADER
)

# The pin filter of every read endpoint (api.params.parse_pin_filter), by name.
PIN_FILTER = {
    "theme": OpenApiParameter(
        "theme", {"type": "string", "maxLength": 40}, description="a theme or a group of themes (slug)"
    ),
    "kind": OpenApiParameter("kind", str, enum=list(Pin.Kind.values)),
    "status": OpenApiParameter(
        "status", str, description=f"visible statuses, comma-separated: {', '.join(Pin.VISIBLE_STATUSES)}"
    ),
    "since": OpenApiParameter("since", str, description="ISO date or datetime (inclusive)"),
    "until": OpenApiParameter("until", str, description="ISO date or datetime (exclusive)"),
}
PIN_FILTER_PARAMETERS = list(PIN_FILTER.values())


class StrictInputExtension(OpenApiSerializerExtension):
    """Inputs that refuse unknown fields say so in the schema: a client generated from it sends none."""

    target_class = "api.serializers.inputs.StrictInput"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        return {**schema, "additionalProperties": False}


class ModerationInputExtension(StrictInputExtension):
    target_class = "api.serializers.moderation.StrictSerializer"
