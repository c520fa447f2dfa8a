"""Map clusters: the endpoint (stored cells + border pins) against the old pin-by-pin SQL, low zooms.

    .venv/bin/python bench/map_clusters.py                 # the bench database, 100 000 pins (CI mode)
    .venv/bin/python bench/map_clusters.py --count 20000   # a smaller load when no bench database exists

`GET /api/pins/clusters/?bbox=&zoom=` at zooms 8–12 over screen-sized boxes (1280 × 800 px) centred on
sampled pins, plus the whole-Métropole view, against `_GROUPS_SQL` (the old statement: every visible pin of
the box reprojected and grouped) run with the same parameters through a plain psycopg connection. Every
request's total is checked against the old statement's: the counts must be exact. The endpoint runs with
CARTO_MAP_INDEX=off: this bench times its SQL path (bench/clusters_supercluster.py times the in-memory index).
Database: CARTO_BENCH_DATABASE (default bench_pins), loaded by bench/generate_pins.py.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_pins")

from bench.generate_pins import ensure_pins, open_bare_cursor, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

SEED = 11
METROPOLE = (2.2, 48.75, 2.6, 49.0)
SCREEN = (1280, 800)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def screen_box(lon: float, lat: float, zoom: int) -> tuple[float, float, float, float]:
    """The WGS84 box a SCREEN-sized map shows at `zoom`, centred on (lon, lat)."""
    degrees_per_px = 360 / (256 * 2**zoom)
    half_w = SCREEN[0] / 2 * degrees_per_px
    y = math.asinh(math.tan(math.radians(lat)))
    half_h = SCREEN[1] / 2 * degrees_per_px * math.pi / 180
    south, north = (math.degrees(math.atan(math.sinh(y + d))) for d in (-half_h, half_h))
    return (
        round(max(lon - half_w, -180), 6),
        round(max(south, -85), 6),
        round(min(lon + half_w, 180), 6),
        round(min(north, 85), 6),
    )


def aggregates_ensure() -> int:
    """Rebuild the stored aggregates unless they count every visible pin; returns the visible count."""
    from carto.models import Pin, PinCell
    from carto.stats.grid import AGGREGATE_MIN_ZOOM
    from carto.stats.heatmaps import aggregates_rebuild

    visible = Pin.objects.visible().count()
    stored = sum(PinCell.objects.filter(zoom=AGGREGATE_MIN_ZOOM).values_list("count", flat=True))
    if stored != visible:
        started = time.perf_counter()
        aggregates_rebuild()
        print(
            f"aggregates rebuilt ({stored} counted vs {visible} visible) in {time.perf_counter() - started:.1f} s"
        )
    return visible


def cluster_requests(samples: int) -> list[tuple[tuple[float, float, float, float], int]]:
    """The whole Métropole at zooms 8–12, then `samples` screens centred on pins at a random zoom 8–12."""
    from carto.models import Pin

    rng = random.Random(SEED)
    points = [
        p.transform(4326, clone=True)
        for p in Pin.objects.visible().order_by("id").values_list("public_location", flat=True)[: samples * 4]
    ]
    rng.shuffle(points)
    requests = [(METROPOLE, z) for z in range(8, 13)]
    return requests + [(screen_box(p.x, p.y, z := rng.choice(range(8, 13))), z) for p in points[:samples]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()

    use_bench_database()
    ensure_pins(args.count, args.groups)

    from django.conf import settings
    from django.test import Client

    from carto.models import Pin, PinCell
    from carto.stats.map_groups import _GROUPS_SQL, pin_by_pin_params

    visible = aggregates_ensure()
    print(f"{Pin.objects.count()} pins, {visible} visible, {PinCell.objects.count()} stored cells")

    settings.ALLOWED_HOSTS = ["*"]
    settings.CARTO_MAP_INDEX = "off"  # the SQL path; bench/clusters_supercluster.py times the in-memory index
    client = Client()
    bare_cursor = open_bare_cursor()
    requests = cluster_requests(args.samples)

    def endpoint(box, zoom) -> tuple[float, int]:
        started = time.perf_counter()
        response = client.get("/api/pins/clusters/", {"bbox": ",".join(map(str, box)), "zoom": zoom})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        return elapsed, response.json()["total"]

    def old_sql(box, zoom) -> tuple[float, int]:
        params = pin_by_pin_params(box, zoom)
        started = time.perf_counter()
        rows = bare_cursor.execute(_GROUPS_SQL, params).fetchall()
        return (time.perf_counter() - started) * 1000, sum(n for n, _, _ in rows)

    for box, zoom in requests[:10]:  # warm both paths
        endpoint(box, zoom)
        old_sql(box, zoom)

    new_ms, old_ms, mismatches = [], [], 0
    for box, zoom in requests:
        (a, total), (b, expected) = endpoint(box, zoom), old_sql(box, zoom)
        new_ms.append(a)
        old_ms.append(b)
        mismatches += total != expected
    metro_new = [endpoint(METROPOLE, z)[0] for z in range(8, 13)]
    metro_old = [old_sql(METROPOLE, z)[0] for z in range(8, 13)]

    print(
        f"{len(requests)} requests, zooms 8-12, screen {SCREEN[0]}x{SCREEN[1]} px; totals differing: {mismatches}"
    )
    print(f"{'':44} {'endpoint ms':>12} {'old SQL ms':>11} {'ratio':>7}")
    for label, new, old in (
        ("clusters z8-z12 p50", statistics.median(new_ms), statistics.median(old_ms)),
        ("clusters z8-z12 p95", pct(new_ms, 0.95), pct(old_ms, 0.95)),
        ("whole Métropole box z8-z12 p50", statistics.median(metro_new), statistics.median(metro_old)),
    ):
        print(f"{label:44} {new:12.1f} {old:11.1f} {new / old:7.2f}")
        emit("map_clusters", f"{label} (endpoint / pin-by-pin SQL)", new, old, new / old, "(none set)", None)
    if mismatches:
        raise SystemExit("cluster totals differ from the pin-by-pin SQL")


if __name__ == "__main__":
    main()
