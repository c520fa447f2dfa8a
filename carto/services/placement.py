"""Placing every pin again after its territories changed (a newer QPV contour file, new boundaries), and
blurring again the pins whose public point no longer lies in the territories they publish."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.gis.geos import Point
from django.db import connection, transaction

from carto.geo import STORAGE_SRID
from carto.services.cluster_rebuild import cluster_counts_refresh_all
from carto.services.privacy import blur_candidates
from carto.sql.placement import pin_reblur, pins_disagreeing, pins_place_range
from carto.stats.map_version import map_version_bump

# Pins placed per transaction: ~2-3 s each at 20,000 (three GiST lookups a pin), so a run over 1 M pins
# shows progress, holds no lock for long and resumes where it stopped if interrupted.
BATCH = 20_000

Progress = Callable[[str], None]


def pins_replace(*, batch: int = BATCH, progress: Progress | None = None) -> int:
    """Place every pin again (carto_place on its exact location); returns how many changed territory.

    Cluster territory counts are recomputed after, and map caches dropped, when anything moved.
    """
    say = progress or (lambda _line: None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM carto_pin")
        last = cursor.fetchone()[0]
    changed = moved = 0
    for after in range(0, last, batch):
        with transaction.atomic():
            changed += pins_place_range(after=after, upto=after + batch)
            moved += pins_reblur_range(after=after, upto=after + batch)
        say(
            f"  placed pins up to id {min(after + batch, last)} of {last}: {changed} changed, {moved} blurred again"
        )
    if changed:
        with transaction.atomic():
            cluster_counts_refresh_all()
    if changed or moved:
        with transaction.atomic():
            map_version_bump()
    say(f"replace_pins: {changed} pins changed territory, {moved} public points moved back inside theirs")
    return changed


def pins_reblur_range(*, after: int, upto: int) -> int:
    """Blur again (carto_blur) the pins with after < id <= upto whose public point lies in other territories
    than those they publish; returns how many."""
    disagreeing = pins_disagreeing(after=after, upto=upto)
    for pin_id, x, y, meters in disagreeing:
        candidates = blur_candidates(location=Point(x, y, srid=STORAGE_SRID), meters=meters)
        pin_reblur(pin_id=pin_id, candidates=candidates, meters=meters)
    return len(disagreeing)
