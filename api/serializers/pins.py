"""Pins in and out of the API: strict input parsing, and public GeoJSON features built from plain rows."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import Point
from django.db.models import BooleanField, ExpressionWrapper, FloatField, Func, Q, QuerySet

from carto.errors import InvalidInput
from carto.geo import API_SRID, in_idf
from carto.models import Pin, PinPhoto
from carto.services.pin_photos import photo_url

PIN_FIELDS = frozenset(
    {"client_uuid", "kind", "theme", "text", "location", "lat", "lon", "language", "mediated"}
)
MEDIATED_FIELDS = frozenset({"structure", "consent"})
COORDINATE_DECIMALS = 5  # about 1 m: public locations are blurred anyway, more digits would only add noise


@dataclass(frozen=True)
class PinInput:
    client_uuid: uuid.UUID
    kind: str
    theme: str
    text: str
    location: Point
    language: str = ""
    structure: str | None = None
    consent: bool | None = None


def _missing(name: str) -> InvalidInput:
    return InvalidInput("missing_field", f"{name} is required", fields={name: ["required"]})


def _number(value, name: str, *, from_text: bool) -> float:
    """A finite JSON number (booleans and strings refused; multipart sends text, so it is parsed there)."""
    if from_text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            "invalid_coordinates", f"{name} must be a finite number", fields={name: ["not a finite number"]}
        )
    return float(value)


def _json_field(value, name: str, *, from_text: bool):
    # Multipart forms carry nested objects (location, mediated) as JSON text.
    if from_text and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise InvalidInput(
                "malformed_request", f"{name} is not valid JSON", fields={name: ["bad JSON"]}
            ) from None
    return value


def parse_location(data: Mapping, *, from_text: bool) -> Point:
    has_geojson = "location" in data
    has_latlon = "lat" in data or "lon" in data
    if has_geojson and has_latlon:
        raise InvalidInput(
            "invalid_location",
            "Send either location or lat/lon, not both",
            fields={"location": ["ambiguous"]},
        )
    if has_geojson:
        geo = _json_field(data["location"], "location", from_text=from_text)
        if not isinstance(geo, dict) or geo.get("type") != "Point" or set(geo) - {"type", "coordinates"}:
            raise InvalidInput(
                "invalid_location",
                'location must be a GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}',
                fields={"location": ["not a GeoJSON Point"]},
            )
        coordinates = geo.get("coordinates")
        if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
            raise InvalidInput(
                "invalid_location", "coordinates must be [lon, lat]", fields={"location": ["bad coordinates"]}
            )
        lon = _number(coordinates[0], "location", from_text=False)
        lat = _number(coordinates[1], "location", from_text=False)
    elif has_latlon:
        if "lat" not in data:
            raise _missing("lat")
        if "lon" not in data:
            raise _missing("lon")
        lat = _number(data["lat"], "lat", from_text=from_text)
        lon = _number(data["lon"], "lon", from_text=from_text)
    else:
        raise _missing("location")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            "invalid_coordinates",
            "Coordinates are out of range (longitude ±180, latitude ±90)",
            fields={"location": ["out of range"]},
        )
    if not in_idf(lon, lat) and in_idf(lat, lon):
        raise InvalidInput(
            "coordinates_swapped",
            "Latitude and longitude look swapped: GeoJSON is [lon, lat] (about [2.35, 48.85] in Paris)",
            fields={"location": ["swapped"]},
        )
    return Point(lon, lat, srid=API_SRID)


def parse_pin_input(data, *, idempotency_key: str | None = None, from_text: bool = False) -> PinInput:
    """Validate one pin as sent by a client (JSON object, or multipart fields with from_text)."""
    if not isinstance(data, Mapping):
        raise InvalidInput("malformed_request", "The body must be a JSON object.")
    unknown = sorted(set(data) - PIN_FIELDS - ({"photo"} if from_text else set()))
    if unknown:
        raise InvalidInput(
            "unknown_field",
            f"Unknown field(s): {', '.join(unknown)[:200]}",
            fields={name[:60]: ["unknown field"] for name in unknown[:20]},
        )
    raw_uuid = data.get("client_uuid") or idempotency_key
    if raw_uuid is None:
        raise _missing("client_uuid")
    try:
        client_uuid = uuid.UUID(str(raw_uuid)) if isinstance(raw_uuid, str) else None
    except ValueError:
        client_uuid = None
    if client_uuid is None:
        raise InvalidInput(
            "invalid_uuid", "client_uuid must be a UUID", fields={"client_uuid": ["not a UUID"]}
        )
    for name in ("kind", "theme", "text"):
        if name not in data or data[name] is None:
            raise _missing(name)
    kind, theme, text = data["kind"], data["theme"], data["text"]
    if kind not in Pin.Kind.values:
        raise InvalidInput("invalid_kind", "kind must be need or proposal", fields={"kind": ["invalid"]})
    if not isinstance(theme, str):
        raise InvalidInput("unknown_theme", "theme must be a theme slug", fields={"theme": ["not a slug"]})
    if not isinstance(text, str):
        raise InvalidInput("invalid_text", "text must be a string", fields={"text": ["not a string"]})
    language = data.get("language") or ""
    if not isinstance(language, str) or len(language) > 16:
        raise InvalidInput(
            "invalid_language", "language must be a language code", fields={"language": ["invalid"]}
        )
    structure, consent = None, None
    if data.get("mediated") is not None:
        mediated = _json_field(data["mediated"], "mediated", from_text=from_text)
        if not isinstance(mediated, dict) or set(mediated) - MEDIATED_FIELDS:
            raise InvalidInput(
                "invalid_mediated", "mediated must be {structure, consent}", fields={"mediated": ["invalid"]}
            )
        structure = mediated.get("structure")
        consent = mediated.get("consent")
        if from_text and isinstance(consent, str):
            consent = consent.lower() == "true"
        if not isinstance(structure, str) or not structure:
            raise InvalidInput(
                "invalid_mediated",
                "mediated.structure is required",
                fields={"mediated.structure": ["required"]},
            )
        if consent is not True:
            raise InvalidInput(
                "consent_required",
                "A pin entered on someone's behalf needs their consent",
                fields={"mediated.consent": ["must be true"]},
            )
    return PinInput(
        client_uuid=client_uuid,
        kind=kind,
        theme=theme,
        text=text,
        location=parse_location(data, from_text=from_text),
        language=language,
        structure=structure,
        consent=consent,
    )


# Public features are built from plain rows rather than with drf-gis's GeoFeatureModelSerializer:
# one SELECT of named columns (coordinates computed by PostGIS), one for the photos, and a dict per
# row. No model instances, no GEOS objects, no per-field serializer calls (see bench/pins_bbox.py).
_ROW_FIELDS = (
    "id", "kind", "theme__slug", "text", "language", "status", "status_reason", "support_count",
    "created_at", "is_mediated", "lon", "lat",
    "commune__code", "commune__name", "ept__code", "ept__name",
    "arrondissement__code", "arrondissement__name", "qpv__code", "qpv__name",
)  # fmt: skip


def feature_rows(queryset: QuerySet) -> QuerySet:
    """The plain rows a feature is built from; only public columns are ever selected."""
    wgs84 = Transform("public_location", API_SRID)
    return queryset.annotate(
        lon=Func(wgs84, function="ST_X", output_field=FloatField()),
        lat=Func(wgs84, function="ST_Y", output_field=FloatField()),
        is_mediated=ExpressionWrapper(Q(mediated_by__isnull=False), output_field=BooleanField()),
    ).values(*_ROW_FIELDS)


def _territory(row: dict, level: str) -> dict | None:
    code = row[f"{level}__code"]
    return None if code is None else {"code": code, "name": row[f"{level}__name"]}


def _feature(row: dict, photos: list[str], *, owner: bool) -> dict:
    properties = {
        "id": row["id"],
        "kind": row["kind"],
        "theme": row["theme__slug"],
        "text": row["text"],
        "language": row["language"],
        "status": row["status"],
        "support_count": row["support_count"],
        "created_at": row["created_at"],
        "territories": {
            level: _territory(row, level) for level in ("commune", "ept", "arrondissement", "qpv")
        },
        "photos": photos,
        "mediated": row["is_mediated"],
        "cluster": None,
    }
    if owner:
        # Only the device or author who made the pin learns why it is held or declined.
        properties["status_reason"] = row["status_reason"]
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {
            "type": "Point",
            "coordinates": [round(row["lon"], COORDINATE_DECIMALS), round(row["lat"], COORDINATE_DECIMALS)],
        },
        "properties": properties,
    }


def pin_features(queryset: QuerySet, *, owner: bool = False) -> list[dict]:
    """Public GeoJSON features of the pins in `queryset` (its order is kept): two queries in all."""
    rows = list(feature_rows(queryset))
    photos: dict[int, list[str]] = {row["id"]: [] for row in rows}
    if rows:
        for pin_id, name in (
            PinPhoto.objects.filter(pin_id__in=list(photos)).order_by("id").values_list("pin_id", "file")
        ):
            photos[pin_id].append(photo_url(name))
    return [_feature(row, photos[row["id"]], owner=owner) for row in rows]


def pin_feature(pin_id: int, *, owner: bool = False) -> dict:
    return pin_features(Pin.objects.filter(pk=pin_id), owner=owner)[0]
