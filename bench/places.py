"""The "where" step's reads on the real reference data: the places search, what is near, orientation tiles.

    .venv/bin/python bench/places.py

One run, ratios against baselines run beside them, interleaved:
- GET /api/places/?q= (Django test client) vs the same statements and parameters through a bare psycopg
  connection, over queries residents type (names, arrondissements written four ways, typos, two letters);
  and that statement left to the planner (a scan of the names) vs with its hint (the trigram index);
- GET /api/places/near/ (placement, territory names and the nearest station: three queries) vs the three
  statements Django sends, bare;
- GET /api/tiles/orientation/ z10–z15 over the Métropole (server-side cache off) vs the bare ST_AsMVT.
Database: CARTO_BENCH_DATABASE (default bench_places): reference data only, loaded by load_all.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_places")

from bench.generate_pins import open_bare_cursor, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

SEED = 7
ROUNDS = 30
QUERIES = [
    "Paris 20e", "20e", "75020", "Paris 20", "Belleville", "Montreuil", "Chateau rouge", "Montreuill",
    "Goutte d'Or", "Grand Belleville", "Les Amandiers", "gare du nord", "Saint-Denis", "creteil", "pa",
    "Bondy", "villejuif", "La Muette", "Aubervilliers", "porte de la chapelle",
]  # fmt: skip
# Points residents stand at: Belleville, la Goutte d'Or, Montreuil, Bondy, the Bois de Vincennes.
POINTS = [(2.3775, 48.8715), (2.3545, 48.8860), (2.4410, 48.8620), (2.4830, 48.9020), (2.4575, 48.8335)]
BOX = (2.25, 48.78, 2.55, 48.95)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def row(name: str, ours: list[float], bare: list[float]) -> tuple[float, float]:
    p50, base50 = statistics.median(ours), statistics.median(bare)
    print(
        f"{name:<52} p50 {p50:6.2f} ms  p95 {pct(ours, 0.95):6.2f} ms  bare p50 {base50:6.2f} ms  {p50 / base50:5.2f}x"
    )
    return p50, base50


def bench_search(client, bare) -> None:
    from carto.services.places import MAX_RESULTS, official_codes
    from carto.sql.places import SEARCH_SQL

    def hinted(params):  # what carto.sql.places.search_places sends: the statement in its transaction
        bare.execute("BEGIN")
        bare.execute("SET LOCAL enable_seqscan = off")
        bare.execute(SEARCH_SQL, params)
        bare.fetchall()
        bare.execute("COMMIT")

    ours, base, unhinted = [], [], []
    for _ in range(ROUNDS):
        for q in QUERIES:
            ours.append(timed(lambda q=q: client.get("/api/places/", {"q": q})))
            params = {"q": q, "codes": official_codes(q), "limit": MAX_RESULTS}
            base.append(timed(lambda p=params: hinted(p)))
            unhinted.append(timed(lambda p=params: (bare.execute(SEARCH_SQL, p), bare.fetchall())))
    p50, base50 = row("GET /api/places/?q= (endpoint / bare SQL)", ours, base)
    row("  the bare SQL left to the planner / with the hint", unhinted, base)
    # No target set for this endpoint yet: the bare side is ~2.3 ms, so Django's fixed ~1.5–2 ms per request
    # is most of the gap (as for the other small, fast queries of the README's bench table).
    emit("places", "search p50 (endpoint / bare SQL)", p50, base50, p50 / base50, "", None)


def bench_near(client, bare) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lon, lat = POINTS[0]
    client.get("/api/places/near/", {"lat": lat, "lon": lon})  # GeoDjango reads spatial_ref_sys once
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/places/near/", {"lat": lat, "lon": lon})
    statements = [q["sql"] for q in captured.captured_queries]
    ours, base = [], []
    for _ in range(ROUNDS):
        for lon, lat in POINTS:
            ours.append(
                timed(lambda lon=lon, lat=lat: client.get("/api/places/near/", {"lat": lat, "lon": lon}))
            )
        for _point in POINTS:  # the first point's statements again: same plans, same work
            base.append(timed(lambda: [(bare.execute(s), bare.fetchall()) for s in statements]))
    p50, base50 = row(f"GET /api/places/near/ (endpoint / its {len(statements)} statements bare)", ours, base)
    # No target: three small statements, so Django's fixed cost per request (~1.5 ms) is most of it.
    emit("places", "near p50 (endpoint / bare SQL)", p50, base50, p50 / base50, "", None)


def bench_tiles(client, bare) -> None:
    from django.test import override_settings

    from carto.sql.orientation_tiles import ORIENTATION_SQL, orientation_params

    rng = random.Random(SEED)
    ours, base, sizes = [], [], []
    with override_settings(CARTO_TILE_CACHE_SECONDS=0):
        for z in range(10, 16):
            for _ in range(12):
                lon, lat = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
                z_, x, y = tile_of(lon, lat, z)
                response = None

                def fetch(z_=z_, x=x, y=y):
                    nonlocal response
                    response = client.get(f"/api/tiles/orientation/{z_}/{x}/{y}.mvt")

                ours.append(timed(fetch))
                sizes.append(len(response.content))
                params = orientation_params(z_, x, y)
                base.append(timed(lambda p=params: (bare.execute(ORIENTATION_SQL, p), bare.fetchall())))
    p50, base50 = row("orientation tiles z10-z15 (endpoint / bare ST_AsMVT)", ours, base)
    print(
        f"{'':<52} largest tile {max(sizes) / 1024:.0f} KB, median {statistics.median(sizes) / 1024:.1f} KB"
    )
    emit(
        "places",
        "orientation tiles p50 (endpoint / bare)",
        p50,
        base50,
        p50 / base50,
        "<= 1.5x",
        p50 / base50 <= 1.5,
    )


def main() -> None:
    use_bench_database()
    from django.test import Client

    client = Client()
    bare = open_bare_cursor()
    client.get("/api/places/", {"q": "warm"})  # first connection, PROJ and pg_trgm loaded outside the timings
    bench_search(client, bare)
    bench_near(client, bare)
    bench_tiles(client, bare)


if __name__ == "__main__":
    main()
