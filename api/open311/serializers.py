"""GeoReport v2 documents built from carto's themes and pins, and the parsing of Open311 input."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Transform
from django.db.models import FloatField, Func, Prefetch, QuerySet
from django.utils import timezone
from rest_framework import serializers

from api.params import is_id, parse_since
from api.serializers.inputs import Input, Number, String
from carto.errors import InvalidInput
from carto.geo import API_SRID
from carto.models import Pin, PinPhoto, Theme
from carto.services.pin_photos import photo_url

LANGUAGES = ("fr", "en", "ar", "zh")
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
PAGE_MAX = 100_000
MAX_IDS = 100
DESCRIPTION_MAX = 1000


def open311_status(status: str) -> str:
    """carto's workflow folded into the spec's two states, from the named sets."""
    return "closed" if status in Pin.CLOSED_STATUSES else "open"


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset of the server's time zone (the spec asks for a timezone)."""
    return None if moment is None else timezone.localtime(moment).isoformat(timespec="seconds")


def _language(value: str | None) -> str:
    return value if value in LANGUAGES else "fr"


def service(theme: Theme, *, language: str) -> dict:
    """A theme as an Open311 service: code = slug, group = the parent theme's label."""
    words = theme.keywords.get(language) or theme.keywords.get("fr") or []
    return {
        "service_code": theme.slug,
        "service_name": theme.label(language),
        "description": theme.easy.get(language) or theme.easy.get("fr") or "",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(words),
        "group": theme.parent.label(language) if theme.parent else "",
    }


def services_queryset() -> QuerySet:
    # Groups of themes cannot receive pins, so they are not services (they are the `group`).
    return Theme.objects.filter(parent__isnull=False).select_related("parent").order_by("order", "slug")


def requests_queryset() -> QuerySet:
    """Visible pins with their public coordinates only (the exact location is never selected)."""
    wgs84 = Transform("public_location", API_SRID)
    return (
        Pin.objects.visible()
        .select_related("theme", "commune")
        .prefetch_related(Prefetch("photos", queryset=PinPhoto.objects.order_by("id")))
        .annotate(
            lon=Func(wgs84, function="ST_X", output_field=FloatField()),
            lat=Func(wgs84, function="ST_Y", output_field=FloatField()),
        )
        .defer("location", "device_hash", "ip_hash", "request_fingerprint", "client_uuid", "status_reason")
    )


def service_request(pin: Pin, *, language: str, absolute) -> dict:
    """A visible pin as a GeoReport v2 service request; `absolute` makes a URL absolute."""
    photos = list(pin.photos.all())
    return {
        "service_request_id": str(pin.pk),
        "status": open311_status(pin.status),
        "status_notes": "",
        "service_name": pin.theme.label(language),
        "service_code": pin.theme.slug,
        "description": pin.text,
        "agency_responsible": "",
        "service_notice": "",
        "requested_datetime": iso(pin.created_at),
        "updated_datetime": iso(pin.updated_at),
        "expected_datetime": None,
        # Only the commune: the public point is blurred, a street address would undo the blur.
        "address": pin.commune.name,
        "address_id": "",
        "zipcode": "",
        "lat": round(pin.lat, 5),
        "long": round(pin.lon, 5),
        "media_url": absolute(photo_url(photos[0].file.name)) if photos else "",
    }


@dataclass(frozen=True)
class RequestFilters:
    ids: list[int] | None
    service_code: list[str]
    statuses: list[str]
    start: dt.datetime | None
    end: dt.datetime | None
    page: int
    page_size: int


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()][:MAX_IDS]


def _positive(value: str, name: str, maximum: int) -> int:
    if not is_id(value) or not 1 <= int(value) <= maximum:
        raise InvalidInput(
            "invalid_page", f"{name} must be an integer from 1 to {maximum}", fields={name: ["invalid"]}
        )
    return int(value)


def _param(help_text: str) -> String:
    """A query parameter as sent (comma lists and numbers are read by RequestsQuery.validate)."""
    return String(required=False, default="", allow_blank=True, trim_whitespace=False, help_text=help_text)


class RequestsQuery(Input):
    """The filters of GET requests (GeoReport v2); each bad value is the spec's 400 (other parameters,
    such as jurisdiction_id, are ignored)."""

    service_request_id = _param("comma-separated ids: overrides every other filter")
    service_code = _param("comma-separated service codes")
    status = _param("open, closed or open,closed")
    start_date = _param("W3C datetime (a date means its midnight)")
    end_date = _param("W3C datetime; without start_date, 90 days before it")
    page = _param(f"from 1 to {PAGE_MAX}")
    page_size = _param(f"from 1 to {MAX_RESULTS}")
    locale = _param(f"{', '.join(LANGUAGES)}; fr by default")

    def validate(self, attrs) -> RequestFilters:
        # InvalidInput, not ValidationError: each message is the spec error's description as it always was.
        ids = None
        if raw_ids := _list(attrs["service_request_id"]):
            if not all(is_id(p) for p in raw_ids):
                raise InvalidInput("invalid_id", "service_request_id must be comma-separated ids")
            ids = [int(p) for p in raw_ids]
        statuses = _list(attrs["status"])
        if any(s not in ("open", "closed") for s in statuses):
            raise InvalidInput("invalid_status", "status must be open or closed (comma-separated)")
        start = parse_since(attrs["start_date"], "start_date")
        end = parse_since(attrs["end_date"], "end_date")
        if start and end and start > end:
            raise InvalidInput("invalid_date", "start_date must be before end_date")
        return RequestFilters(
            ids=ids,
            service_code=_list(attrs["service_code"]),
            statuses=statuses,
            start=start,
            end=end,
            page=_positive(attrs["page"], "page", PAGE_MAX) if attrs["page"] else 1,
            page_size=_positive(attrs["page_size"], "page_size", MAX_RESULTS)
            if attrs["page_size"]
            else MAX_RESULTS,
        )


def filter_requests(queryset: QuerySet, filters: RequestFilters, *, now: dt.datetime) -> QuerySet:
    """Apply the spec's rules: ids override every other filter; otherwise the last 90 days by default."""
    if filters.ids is not None:
        return queryset.filter(pk__in=filters.ids)
    if filters.service_code:
        queryset = queryset.filter(theme__slug__in=filters.service_code)
    if filters.statuses and set(filters.statuses) != {"open", "closed"}:
        wanted = Pin.CLOSED_STATUSES if filters.statuses[0] == "closed" else Pin.OPEN_STATUSES
        queryset = queryset.filter(status__in=wanted)
    start, end = filters.start, filters.end
    if start is None and end is None:
        start = now - dt.timedelta(days=DEFAULT_DAYS)
    elif start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS)
    queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lte=end)
    return queryset


class RequestCreateForm(Input):
    """A POSTed service request (form-encoded), checked before any service is called. Other fields of
    the spec (email, first_name, attribute…) are accepted and ignored: carto keeps no contact details."""

    ERRORS = {
        "service_code": ("missing_field", "service_code is required"),
        "location:required": ("missing_location", "a location is required: lat and long"),
        "location:address": (
            "address_not_supported",
            "carto does not geocode addresses: send lat and long (WGS84) of the place",
        ),
        "lat": ("invalid_location", "lat must be a number from -90 to 90"),
        "long": ("invalid_location", "long must be a number from -180 to 180"),
        "description:max_length": (
            "invalid_text",
            f"description must be at most {DESCRIPTION_MAX} characters",
        ),
        "description:null_characters_not_allowed": ("invalid_text", "text must not contain NUL characters"),
        "description:surrogate_characters_not_allowed": (
            "invalid_text",
            "text contains invalid Unicode (lone surrogate)",
        ),
        "description": ("missing_field", "description is required (it is what the map shows)"),
        "media_url": ("invalid_media_url", "media_url must be an http(s) URL"),
    }

    api_key = String(trim_whitespace=False, help_text="issued by the carto operators")
    service_code = String(trim_whitespace=False, help_text="a service_code of services.json")
    lat = Number(required=False, min_value=-90, max_value=90, help_text="WGS84")
    long = Number(required=False, min_value=-180, max_value=180, help_text="WGS84")
    address_string = String(required=False, allow_blank=True, help_text="not supported: send lat and long")
    address_id = String(required=False, allow_blank=True, help_text="not supported: send lat and long")
    description = String(max_length=DESCRIPTION_MAX, help_text="what the map shows")
    media_url = String(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text="http(s); neither fetched nor kept",
    )
    device_id = String(required=False, allow_blank=True, default="", trim_whitespace=False)

    def to_internal_value(self, data):
        # An empty lat or long is an absent one (forms send every input, filled or not).
        data = {k: v for k, v in data.items() if not (k in ("lat", "long") and v == "")}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "lat" not in attrs and "long" not in attrs:
            rule = "address" if attrs.get("address_string") or attrs.get("address_id") else "required"
            raise serializers.ValidationError({"location": [rule]}, code=rule)
        for name in ("lat", "long"):
            if name not in attrs:
                raise serializers.ValidationError({name: ["required"]}, code="required")
        if attrs["media_url"] and not attrs["media_url"].startswith(("https://", "http://")):
            raise serializers.ValidationError({"media_url": ["not http(s)"]}, code="invalid")
        return attrs


def language_of(params) -> str:
    return _language(params.get("locale", "")[:2] or None)
