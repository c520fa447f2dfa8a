"""What clients send to the pins API: one declarative input per endpoint (validation, OpenAPI schema and
error codes from the same fields), and PIN_ERRORS, the one table of what a client sees when refused."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from rest_framework import serializers

from api.serializers.inputs import UUID, Input, Number, StrictInput, String, TrueOnly
from carto.geo import API_SRID, in_idf
from carto.models import Actor, Pin, Theme
from carto.models.pins import TEXT_MAX_LENGTH

BATCH_MAX = 50
THEME_MAX_LENGTH = Theme._meta.get_field("slug").max_length
STRUCTURE_MAX_LENGTH = Actor._meta.get_field("source_id").max_length
LANGUAGE_MAX_LENGTH = 16

_GEOJSON = 'location must be a GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}'
_OUT_OF_RANGE = "Coordinates are out of range (longitude ±180, latitude ±90)"
_NO_THEME = ("unknown_theme", "This theme does not exist.")
_CONSENT = ("consent_required", "A pin entered on someone's behalf needs their consent")

# Location rules, shared by a pin's body and the lat/lon of a query.
LOCATION_ERRORS = {
    "location:ambiguous": ("invalid_location", "Send either location or lat/lon, not both"),
    "location:null": ("invalid_location", _GEOJSON),
    "location:out_of_range": ("invalid_coordinates", _OUT_OF_RANGE),
    "location:swapped": (
        "coordinates_swapped",
        "Latitude and longitude look swapped: GeoJSON is [lon, lat] (about [2.35, 48.85] in Paris)",
    ),
    "location.coordinates:not_a_number": ("invalid_coordinates", "location must be a finite number"),
    "location.coordinates": ("invalid_location", "coordinates must be [lon, lat]"),
    "location": ("invalid_location", _GEOJSON),
    **{
        key: value
        for name in ("lat", "lon")
        for key, value in {
            f"{name}:min_value": ("invalid_coordinates", _OUT_OF_RANGE),
            f"{name}:max_value": ("invalid_coordinates", _OUT_OF_RANGE),
            f"{name}:null": ("invalid_coordinates", f"{name} must be a finite number"),
            name: ("invalid_coordinates", f"{name} must be a finite number"),
        }.items()
    },
}

PIN_ERRORS = {
    "client_uuid": ("invalid_uuid", "client_uuid must be a UUID"),
    "kind": ("invalid_kind", "kind must be need or proposal"),
    "theme:blank": _NO_THEME,
    "theme:max_length": _NO_THEME,
    "theme": ("unknown_theme", "theme must be a theme slug"),
    "text:blank": ("invalid_text", "text must not be empty"),
    "text:max_length": ("invalid_text", f"text must be at most {TEXT_MAX_LENGTH} characters"),
    "text:null_characters_not_allowed": ("invalid_text", "text must not contain NUL characters"),
    "text:surrogate_characters_not_allowed": (
        "invalid_text",
        "text contains invalid Unicode (lone surrogate)",
    ),
    "text": ("invalid_text", "text must be a string"),
    "language": ("invalid_language", "language must be a language code"),
    "mediated.structure:max_length": ("unknown_structure", "This structure does not exist."),
    "mediated.structure": ("invalid_mediated", "mediated.structure is required"),
    "mediated.consent": _CONSENT,
    "mediated": ("invalid_mediated", "mediated must be {structure, consent}"),
    "photo": ("photo_not_an_image", "photo must be a file."),
    **LOCATION_ERRORS,
}


def _refuse(name: str, rule: str) -> serializers.ValidationError:
    return serializers.ValidationError({name: [rule]}, code=rule)


def checked_point(lon: float, lat: float) -> Point:
    """A WGS84 point in range and not visibly swapped (the refusals name `location`)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _refuse("location", "out_of_range")
    if not in_idf(lon, lat) and in_idf(lat, lon):
        raise _refuse("location", "swapped")
    return Point(lon, lat, srid=API_SRID)


class GeoJSONPoint(StrictInput):
    """A GeoJSON Point in WGS84: [lon, lat], an altitude tolerated and ignored."""

    type = serializers.ChoiceField(choices=["Point"])
    coordinates = serializers.ListField(child=Number(), min_length=2, max_length=3)


class Mediated(StrictInput):
    """An aidant (médiateur) entering the pin on a resident's behalf, with their consent."""

    structure = String(
        max_length=STRUCTURE_MAX_LENGTH,
        trim_whitespace=False,
        help_text="source id of the aidant's structure (an actor of /api/actors/)",
    )
    consent = TrueOnly(help_text="the resident agreed: must be true")


class PinCreateInput(StrictInput):
    """One pin: its place as a GeoJSON `location` or as `lat` and `lon` (WGS84); `mediated` for an aidant."""

    ERRORS = PIN_ERRORS

    client_uuid = UUID(
        help_text="made by the client; a replay with the same body is answered 200, not re-recorded"
    )
    kind = serializers.ChoiceField(choices=Pin.Kind.choices)
    theme = String(max_length=THEME_MAX_LENGTH, trim_whitespace=False, help_text="a theme slug (not a group)")
    text = String(max_length=TEXT_MAX_LENGTH)
    language = String(
        max_length=LANGUAGE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
    )
    mediated = Mediated(required=False, allow_null=True)
    location = GeoJSONPoint(required=False)
    lat = Number(required=False, min_value=-90, max_value=90)
    lon = Number(required=False, min_value=-180, max_value=180)

    def to_internal_value(self, data):
        # The Idempotency-Key header stands for a missing client_uuid.
        if isinstance(data, dict) and not data.get("client_uuid"):
            data = {k: v for k, v in data.items() if k != "client_uuid"}
            if key := self.context.get("idempotency_key"):
                data["client_uuid"] = key
        return super().to_internal_value(data)

    def validate(self, attrs):
        has_point, has_latlon = "location" in attrs, "lat" in attrs or "lon" in attrs
        if has_point and has_latlon:
            raise _refuse("location", "ambiguous")
        if has_latlon:
            for name in ("lat", "lon"):
                if name not in attrs:
                    raise _refuse(name, "required")
            lon, lat = attrs.pop("lon"), attrs.pop("lat")
        elif has_point:
            lon, lat = attrs["location"]["coordinates"][:2]
        else:
            raise _refuse("location", "required")
        attrs["location"] = checked_point(lon, lat)
        attrs["language"] = attrs.get("language") or ""
        return attrs


class PinCreateFormInput(PinCreateInput):
    """The same pin as a multipart form, with its photo; `location` and `mediated` as JSON text."""

    photo = serializers.FileField(required=False, allow_empty_file=True, help_text="JPEG, PNG or WebP")


class PinItems(serializers.ListField):
    """A batch's pins: only the list is checked here; each pin is validated on its own, so one bad pin
    gets its own error and never refuses the others."""

    def run_child_validation(self, data):
        return list(data)


class PinBatchInput(StrictInput):
    """Up to BATCH_MAX pins (an aidant's session), each recorded in its own transaction."""

    ERRORS = {
        ":not_an_object": ("malformed_request", 'The body must be {"pins": [ … ]}.'),
        "*:unknown_field": ("malformed_request", 'The body must be {"pins": [ … ]}.'),
        "*:required": ("malformed_request", 'The body must be {"pins": [ … ]}.'),
        "*:null": ("malformed_request", 'The body must be {"pins": [ … ]}.'),
        "pins:not_a_list": ("malformed_request", 'The body must be {"pins": [ … ]}.'),
        "pins": ("invalid_batch", f"A batch holds 1 to {BATCH_MAX} pins."),
    }

    pins = PinItems(child=PinCreateInput(), min_length=1, max_length=BATCH_MAX)


class PinPhotoInput(Input):
    """A photo for a pin already recorded (other form fields are ignored, as they always were)."""

    ERRORS = {"photo:required": ("missing_field", "photo is required"), "photo": PIN_ERRORS["photo"]}

    photo = serializers.FileField(allow_empty_file=True, help_text="JPEG, PNG or WebP")


class PointQuery(Input):
    """`lat` and `lon` of a query string (WGS84), checked as a pin's are; other parameters are ignored."""

    ERRORS = LOCATION_ERRORS

    lat = Number(min_value=-90, max_value=90)
    lon = Number(min_value=-180, max_value=180)

    def validate(self, attrs):
        return {**attrs, "location": checked_point(attrs["lon"], attrs["lat"])}


class SimilarQuery(PointQuery):
    """The pin being written: its place, and its theme and text so far (cut to a pin's lengths)."""

    theme = String(required=False, default="", allow_blank=True, trim_whitespace=False)
    text = String(required=False, default="", allow_blank=True, trim_whitespace=False)

    def validate(self, attrs):
        # Cut, not refused: the page asks while the resident types, a long draft is still a draft.
        attrs = {**attrs, "theme": attrs["theme"][:THEME_MAX_LENGTH], "text": attrs["text"][:TEXT_MAX_LENGTH]}
        return super().validate(attrs)
