"""Spatial reference systems and the privacy blur of public locations."""

from __future__ import annotations

import hashlib
import hmac
import math
from functools import cache

from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import Point

# Lambert-93: metres are real metres in Île-de-France, so distances and buffers need no transform.
STORAGE_SRID = 2154
# What clients send and read (GeoJSON, RFC 7946).
API_SRID = 4326
# Web Mercator, for vector tiles.
TILE_SRID = 3857

# Île-de-France bounding box in WGS84 (lon/lat), with a margin: coarse sanity check of imported points.
IDF_BBOX = (1.40, 48.10, 3.60, 49.25)


@cache
def transform_between(source: int, target: int) -> CoordTransform:
    """A cached GDAL transformation between two SRIDs."""
    # Building a CoordTransform costs ~8 ms (PROJ database lookup); reuse one per pair.
    return CoordTransform(SpatialReference(source), SpatialReference(target))


def to_storage(point: Point) -> Point:
    """Return a copy of `point` in Lambert-93 (accepts WGS84 or already-projected points)."""
    srid = point.srid or API_SRID
    projected = Point(point.x, point.y, srid=srid)
    if srid != STORAGE_SRID:
        projected.transform(transform_between(srid, STORAGE_SRID))
    return projected


def to_api(point: Point) -> Point:
    """Return a copy of a stored point in WGS84 lon/lat."""
    projected = Point(point.x, point.y, srid=point.srid or STORAGE_SRID)
    projected.transform(transform_between(projected.srid, API_SRID))
    return projected


def in_idf(lon: float, lat: float) -> bool:
    """True when (lon, lat) lies in the Île-de-France box (used to reject absurd imported coordinates)."""
    min_lon, min_lat, max_lon, max_lat = IDF_BBOX
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def blur_offset(
    *, seed: str, secret: str, meters: float, attempt: int = 0, minimum: float | None = None
) -> tuple[float, float]:
    """A deterministic displacement of between `minimum` (default meters/2) and meters, in a direction
    drawn from the seed.

    HMAC with a server secret: knowing the seed is not enough to undo the blur.
    Displacing by at least half the radius avoids leaving the true point at the centre of a small disc.
    """
    if meters <= 0:
        return 0.0, 0.0
    low = meters / 2 if minimum is None else min(minimum, meters)
    digest = hmac.new(secret.encode(), f"{seed}:{attempt}".encode(), hashlib.sha256).digest()
    angle = int.from_bytes(digest[:8], "big") / 2**64 * 2 * math.pi
    distance = low + (meters - low) * int.from_bytes(digest[8:16], "big") / 2**64
    return distance * math.cos(angle), distance * math.sin(angle)
