"""Privacy rules: blurred public locations, keyed hashes of device tokens and IP addresses."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.gis.geos import Point

from carto.geo import blur_offset
from carto.sql.placement import first_candidate_inside

BLUR_ATTEMPTS = 8


def public_location_for(
    *, location: Point, seed: str, meters: int, commune_id: int, qpv_id: int | None
) -> Point:
    """Displace `location` deterministically (seed + server secret) by up to `meters`, staying in its area.

    Tried in order: up to 8 directions at the full radius, then the area point closest to the first.
    The same seed always gives the same public point, so repeated reads cannot be averaged out.
    """
    if meters <= 0:
        return Point(location.x, location.y, srid=location.srid)
    candidates = []
    for attempt in range(BLUR_ATTEMPTS):
        dx, dy = blur_offset(seed=seed, secret=settings.CARTO_BLUR_SECRET, meters=meters, attempt=attempt)
        candidates.append((location.x + dx, location.y + dy))
    return first_candidate_inside(candidates=candidates, commune_id=commune_id, qpv_id=qpv_id)


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of a device token or IP address: comparable, never reversible without the secret."""
    if not value:
        return ""
    key = f"{settings.SECRET_KEY}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
