"""GeoReport v2 documents built from carto's themes and pins, and the parsing of Open311 input."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Transform
from django.db.models import FloatField, Func, Prefetch, QuerySet
from django.utils import timezone

from api.params import is_id, parse_since
from carto.errors import InvalidInput
from carto.geo import API_SRID
from carto.models import Pin, PinPhoto, Theme
from carto.services.pin_photos import photo_url

LANGUAGES = ("fr", "en", "ar", "zh")
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
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


def _date(params, name: str) -> dt.datetime | None:
    """A W3C datetime (a plain date means its midnight), with the API's one date parser."""
    return parse_since(params.get(name), name)


def _positive(params, name: str, *, default: int, maximum: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if not is_id(value) or not 1 <= int(value) <= maximum:
        raise InvalidInput(
            "invalid_page", f"{name} must be an integer from 1 to {maximum}", fields={name: ["invalid"]}
        )
    return int(value)


def _list(params, name: str) -> list[str]:
    return [part.strip() for part in params.get(name, "").split(",") if part.strip()][:MAX_IDS]


def parse_request_filters(params) -> RequestFilters:
    """The GET requests filters; each bad value is the spec's 400."""
    ids = None
    if raw_ids := _list(params, "service_request_id"):
        if not all(is_id(p) for p in raw_ids):
            raise InvalidInput("invalid_id", "service_request_id must be comma-separated ids")
        ids = [int(p) for p in raw_ids]
    statuses = _list(params, "status")
    if any(s not in ("open", "closed") for s in statuses):
        raise InvalidInput("invalid_status", "status must be open or closed (comma-separated)")
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start and end and start > end:
        raise InvalidInput("invalid_date", "start_date must be before end_date")
    return RequestFilters(
        ids=ids,
        service_code=_list(params, "service_code"),
        statuses=statuses,
        start=start,
        end=end,
        page=_positive(params, "page", default=1, maximum=100_000),
        page_size=_positive(params, "page_size", default=MAX_RESULTS, maximum=MAX_RESULTS),
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


@dataclass(frozen=True)
class RequestInput:
    service_code: str
    lat: float
    lon: float
    description: str
    media_url: str
    device_id: str


def _coordinate(params, name: str, low: float, high: float) -> float:
    try:
        value = float(params.get(name, ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput("invalid_location", f"{name} must be a number from {low} to {high}")
    return value


def parse_request_input(params) -> RequestInput:
    """A POSTed service request (form-encoded), checked before any service is called."""
    service_code = params.get("service_code", "")
    if not service_code:
        raise InvalidInput("missing_field", "service_code is required")
    has_point = params.get("lat") or params.get("long")
    if not has_point:
        if params.get("address_string") or params.get("address_id"):
            raise InvalidInput(
                "address_not_supported",
                "carto does not geocode addresses: send lat and long (WGS84) of the place",
            )
        raise InvalidInput("missing_location", "a location is required: lat and long")
    lat = _coordinate(params, "lat", -90, 90)
    lon = _coordinate(params, "long", -180, 180)
    description = params.get("description", "")
    if not description.strip():
        raise InvalidInput("missing_field", "description is required (it is what the map shows)")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput("invalid_text", f"description must be at most {DESCRIPTION_MAX} characters")
    media_url = params.get("media_url", "")
    if media_url and (len(media_url) > 500 or not media_url.startswith(("https://", "http://"))):
        raise InvalidInput("invalid_media_url", "media_url must be an http(s) URL")
    return RequestInput(
        service_code=service_code[:40],
        lat=lat,
        lon=lon,
        description=description,
        media_url=media_url,
        device_id=params.get("device_id", "")[:200],
    )


def language_of(params) -> str:
    return _language(params.get("locale", "")[:2] or None)
