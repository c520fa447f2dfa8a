"""Vector tiles of pins and territories.

Plain Django views, not DRF: a tile needs no content negotiation, authentication or browsable renderer,
and every microsecond counts against the bare ST_AsMVT baseline (bench/tiles.py). Errors still use the
one JSON error shape.
"""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

from api.errors import allowed_methods, error_body
from api.params import parse_pin_filter
from carto.errors import DomainError, InvalidInput
from carto.sql.orientation_tiles import orientation_tile
from carto.sql.tiles import PinTileQuery, pin_tile, territory_tile
from carto.stats.grid import AGGREGATE_MAX_ZOOM, MAX_ZOOM
from carto.stats.map_version import map_version

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
# Browsers and proxies may reuse a tile this long; after that they revalidate with the ETag (a 304).
MAX_AGE = 60
# Territory outlines change only when the importer runs.
TERRITORY_MAX_AGE = 86400


def _integer(value: str, name: str) -> int:
    try:
        if not value.lstrip("-").isdigit():
            raise ValueError
        return int(value)
    except ValueError:
        raise InvalidInput("invalid_tile", f"{name} must be an integer", fields={name: [value]}) from None


def parse_tile(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Tile address → integers, 0 ≤ z ≤ 22 and 0 ≤ x, y < 2^z."""
    zi, xi, yi = _integer(z, "z"), _integer(x, "x"), _integer(y, "y")
    if not 0 <= zi <= MAX_ZOOM:
        raise InvalidInput("invalid_tile", f"z must be between 0 and {MAX_ZOOM}", fields={"z": [z]})
    for name, value in (("x", xi), ("y", yi)):
        if not 0 <= value < 2**zi:
            raise InvalidInput(
                "invalid_tile",
                f"{name} must be between 0 and {2**zi - 1} at zoom {zi}",
                fields={name: [str(value)]},
            )
    return zi, xi, yi


def json_errors(view):
    """Domain errors as the one JSON error shape, for the plain Django views of the API."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status)

    return wrapper


def _cache_seconds() -> int:
    # 0 turns the server-side cache off (bench/tiles.py measures the tile query that way).
    return getattr(settings, "CARTO_TILE_CACHE_SECONDS", 300)


def _cached_tile(request, key: str, version: int, build, max_age: int) -> HttpResponse:
    digest = hashlib.blake2b(f"{version}:{key}".encode(), digest_size=12).hexdigest()
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": "*",
    }
    # META, not request.headers: building the headers mapping was half the cost of a cache hit (cProfile).
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        return HttpResponse(status=304, headers=headers)
    seconds = _cache_seconds()
    cache_key = f"tile:{digest}"
    body = cache.get(cache_key) if seconds else None
    if body is None:
        body = build()
        if seconds:
            cache.set(cache_key, body, seconds)
    return HttpResponse(body, content_type=MVT_CONTENT_TYPE, headers=headers)


@allowed_methods("GET")
@json_errors
def pin_tile_view(request, z: str, x: str, y: str) -> HttpResponse:
    """GET /api/tiles/pins/{z}/{x}/{y}.mvt: visible pins (z ≥ 13) or counts per grid cell (z ≤ 12).

    Layer `pins`: id, kind, theme, status, support_count, count (1) per pin; only `count` per cell.
    At z ≤ 12 `since` has month granularity (the cells are kept per month); with `status` or `until`, the
    same grid is counted from the pins.
    """
    zi, xi, yi = parse_tile(z, x, y)
    query = PinTileQuery(zi, xi, yi, pin_filter=parse_pin_filter(request.GET))
    key = f"pins:{zi}/{xi}/{yi}:{query.pin_filter!r}"
    return _cached_tile(
        request, key, map_version(), lambda: pin_tile(query, aggregated=zi <= AGGREGATE_MAX_ZOOM), MAX_AGE
    )


@allowed_methods("GET")
@json_errors
def territory_tile_view(request, z: str, x: str, y: str) -> HttpResponse:
    """GET /api/tiles/territories/{z}/{x}/{y}.mvt: layers communes, ept, arrondissements (code, name)."""
    zi, xi, yi = parse_tile(z, x, y)
    return _cached_tile(
        request, f"territories:{zi}/{xi}/{yi}", 0, lambda: territory_tile(zi, xi, yi), TERRITORY_MAX_AGE
    )


@allowed_methods("GET")
@json_errors
def orientation_tile_view(request, z: str, x: str, y: str) -> HttpResponse:
    """GET /api/tiles/orientation/{z}/{x}/{y}.mvt: layers rail_lines (z ≥ 10), stations (z ≥ 12), qpv (z ≥ 10).

    Reference data like the territory outlines: it changes only when load_all or import_qpv_contours runs,
    so it is cached the same way (a fixed version and a day's max-age), not by the pins' map version.
    """
    zi, xi, yi = parse_tile(z, x, y)
    return _cached_tile(
        request, f"orientation:{zi}/{xi}/{yi}", 0, lambda: orientation_tile(zi, xi, yi), TERRITORY_MAX_AGE
    )
