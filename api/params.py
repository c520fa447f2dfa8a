"""Query-string parsing shared by the read endpoints: each bad value is a clear 400."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.geos import Polygon
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from carto.errors import InvalidInput
from carto.geo import API_SRID


def parse_bbox(value: str | None) -> Polygon | None:
    """`minlon,minlat,maxlon,maxlat` in WGS84 → a polygon, or None when absent."""
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
    polygon = Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
    polygon.srid = API_SRID
    return polygon


def parse_since(value: str | None, name: str = "since") -> dt.datetime | None:
    """An ISO date or datetime; a date means its midnight in the server's time zone."""
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value) if len(value) == 10 else None
        if day is None:
            raise InvalidInput(
                "invalid_date", f"{name} must be an ISO 8601 date or datetime", fields={name: [value]}
            )
        parsed = dt.datetime.combine(day, dt.time.min)
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed
