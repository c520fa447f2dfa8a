"""Privacy rules: blurred public locations, keyed hashes of device tokens and IP addresses."""

from __future__ import annotations

import hashlib
import hmac
import math

from django.conf import settings
from django.contrib.gis.geos import Point

from carto.geo import blur_offset

BLUR_ATTEMPTS = 8


# Exact locations in one square of this side share one public point.
BLUR_CELL_M = 20


def blur_candidates(*, location: Point, meters: int) -> list[tuple[float, float]]:
    """Where `location` may be shown, displaced deterministically by up to `meters`, in order of preference;
    the first one placed in the location's own commune, arrondissement and QPV (or no QPV) is its public
    location (chosen in SQL by carto_pin_preflight, carto/sql/carto_pin_preflight.sql).

    The displacement belongs to the place, not to the pin: it starts from the centre of the location's
    BLUR_CELL_M square, in a direction drawn from that square (and the server secret), at least
    meters/2 from any point of the square. So 25 pins posted from one doorstep share one public point
    75-150 m away for a 150 m theme: averaging them, or intersecting their rings, gives nothing back
    (with one offset per pin, the mean of 25 converged to ~15 m of the doorstep). Themes with other
    radii move along the same direction. Tried in order: up to 8 directions, then the area point
    closest to the first. No candidates (an empty list) for a theme that is not blurred.
    """
    if meters <= 0:
        return []
    ix, iy = math.floor(location.x / BLUR_CELL_M), math.floor(location.y / BLUR_CELL_M)
    cx, cy = (ix + 0.5) * BLUR_CELL_M, (iy + 0.5) * BLUR_CELL_M
    # From the cell centre, meters/2 plus the half-diagonal: every point of the cell ends >= meters/2 away.
    minimum = meters / 2 + BLUR_CELL_M / math.sqrt(2)
    candidates = []
    for attempt in range(BLUR_ATTEMPTS):
        dx, dy = blur_offset(
            seed=f"cell:{ix}:{iy}",
            secret=settings.CARTO_BLUR_SECRET,
            meters=max(meters, minimum),
            attempt=attempt,
            minimum=minimum,
        )
        candidates.append((cx + dx, cy + dy))
    return candidates


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of a device token or IP address: comparable, never reversible without the secret."""
    if not value:
        return ""
    key = f"{settings.SECRET_KEY}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
