"""OpenAPI fragments shared by several views (drf-spectacular cannot infer them)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

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
