"""Query-string parsing shared by the read endpoints: each bad value is a clear 400."""

from __future__ import annotations

import datetime as dt
import math
import re

from django.contrib.gis.geos import Polygon
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from carto.errors import InvalidInput
from carto.geo import API_SRID, IDF_BBOX
from carto.models import Pin, Theme
from carto.pin_filter import PinFilter

# ASCII digits only: str.isdigit() also takes "²" or "٣", which int() then refuses (a 500).
_DIGITS = re.compile(r"[0-9]{1,18}")
# Pins exist only in Île-de-France: a box is clipped to it (with a margin) before it is projected, so a
# bbox of the whole world, valid input, never reaches PROJ with a pole it cannot put in Lambert-93.
_CLIP = (IDF_BBOX[0] - 1, IDF_BBOX[1] - 1, IDF_BBOX[2] + 1, IDF_BBOX[3] + 1)


def parse_int(
    value: str | None,
    name: str,
    *,
    default: int | None,
    minimum: int = 0,
    maximum: int = 10**6,
    code: str = "invalid_parameter",
) -> int:
    """An integer query parameter from `minimum` to `maximum` (ASCII digits); `default` when absent
    (required when the default is None)."""
    if value in (None, "") and default is not None:
        return default
    if value is None or not _DIGITS.fullmatch(value) or not minimum <= int(value) <= maximum:
        raise InvalidInput(
            code,
            f"{name} must be an integer from {minimum} to {maximum}",
            fields={name: [(value or "")[:60]]},
        )
    return int(value)


def is_id(value: str) -> bool:
    """A database id as text: ASCII digits, at most 18 of them."""
    return bool(_DIGITS.fullmatch(value))


def parse_bbox(value: str | None) -> Polygon | None:
    """`minlon,minlat,maxlon,maxlat` in WGS84 → a polygon, or None when absent."""
    extent = parse_bbox_extent(value)
    if extent is None:
        return None
    polygon = Polygon.from_bbox(extent)
    polygon.srid = API_SRID
    return polygon


def parse_bbox_extent(value: str | None) -> tuple[float, float, float, float] | None:
    """parse_bbox's checks and clipping, giving the four numbers only (the map groups' hot path needs no
    GEOS polygon: ~0.3 ms saved per request), or None when absent."""
    if not value:
        return None
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(
            "invalid_bbox", "bbox must be four numbers: minlon,minlat,maxlon,maxlat", fields={"bbox": [value]}
        )
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (
        -180 <= min_lon <= 180 and -180 <= max_lon <= 180 and -90 <= min_lat <= 90 and -90 <= max_lat <= 90
    ):
        raise InvalidInput(
            "invalid_bbox", "bbox is outside the world (lon ±180, lat ±90)", fields={"bbox": [value]}
        )
    if min_lon >= max_lon or min_lat >= max_lat:
        raise InvalidInput("invalid_bbox", "bbox minimum must be below its maximum", fields={"bbox": [value]})
    clipped = (max(min_lon, _CLIP[0]), max(min_lat, _CLIP[1]), min(max_lon, _CLIP[2]), min(max_lat, _CLIP[3]))
    if clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:  # nowhere near a pin: a tiny empty box
        clipped = (_CLIP[0], _CLIP[1], _CLIP[0] + 1e-6, _CLIP[1] + 1e-6)
    return clipped


# Dates a filter may name: far enough for any pin, near enough that time zone arithmetic never overflows.
YEARS = (1900, 9000)


def parse_since(value: str | None, name: str = "since") -> dt.datetime | None:
    """An ISO date or datetime; a date means its midnight in the server's time zone."""
    if not value:
        return None
    try:  # well-formed but impossible dates (2024-13-45, 0000-01-01) raise ValueError
        parsed = parse_datetime(value) if len(value) <= 40 else None
        day = parse_date(value) if parsed is None and len(value) == 10 else None
    except ValueError:
        parsed = day = None
    if parsed is None and day is not None:
        parsed = dt.datetime.combine(day, dt.time.min)
    if parsed is None or not YEARS[0] <= parsed.year <= YEARS[1]:
        raise InvalidInput(
            "invalid_date",
            f"{name} must be an ISO 8601 date or datetime between {YEARS[0]} and {YEARS[1]}",
            fields={name: [value[:60]]},
        )
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_pin_filter(params) -> PinFilter:
    """The pin filter of every read endpoint: `theme` (a theme, or a group: its themes), `kind`, `status`
    (visible statuses, comma-separated), `since`, `until`; one code per bad value."""
    theme_ids = None
    if slug := params.get("theme"):
        theme = Theme.objects.filter(slug=slug).only("id", "parent_id").first()
        if theme is None:
            # invalid_theme is the pin's own refusal of a group of themes (PIN_ERRORS).
            raise InvalidInput("unknown_theme", "This theme does not exist.", fields={"theme": [slug[:60]]})
        if theme.parent_id is None:
            theme_ids = tuple(Theme.objects.filter(parent=theme).order_by("id").values_list("id", flat=True))
        else:
            theme_ids = (theme.id,)
    kind = params.get("kind") or None
    if kind is not None and kind not in Pin.Kind.values:
        raise InvalidInput("invalid_kind", "kind must be need or proposal", fields={"kind": [kind[:60]]})
    statuses = None
    if raw := params.get("status"):
        statuses = tuple(sorted(set(raw.split(","))))
        if bad := [s[:60] for s in statuses if s not in Pin.VISIBLE_STATUSES][:20]:
            raise InvalidInput(
                "invalid_status",
                f"status must be among {', '.join(Pin.VISIBLE_STATUSES)}",
                fields={"status": bad},
            )
    since = parse_since(params.get("since"), "since")
    until = parse_since(params.get("until"), "until")
    if since and until and since >= until:
        raise InvalidInput("invalid_period", "since must be before until", fields={"since": [str(since)]})
    return PinFilter(theme_ids=theme_ids, kind=kind, statuses=statuses, since=since, until=until)


def valid(serializer_class, data):
    """The validated data of a DRF input serializer (its errors become the one 400 shape)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
