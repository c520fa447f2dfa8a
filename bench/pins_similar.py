"""GET /api/pins/similar/ against the bare SQL of its candidate query, and its recall on duplicate groups.

    .venv/bin/python bench/pins_similar.py [--count 100000] [--queries 200]

For each generated group of reworded duplicates (bench/generate_pins.py), the first wording is the
query, asked from that pin's public location with its theme; the 4 other wordings are the pins it
should find. Recall@10 is compared with a plain trigram baseline (pg_trgm similarity() on the raw
text within the same window, no unaccent, no theme or distance). Timings: the endpoint through the
Django test Client (encoding the text with e5, scoring in numpy) vs its candidate SELECT
(carto.services.similar.CANDIDATES_SQL) run bare: the ratio is what the text model and scoring cost.
Pins without a stored embedding are encoded (and stored) by the first query that meets them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_pins import GROUP_SIZE, GROUPS, SEED, ensure_pins, group_uuid, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

BASELINE_SQL = """
SELECT p.id FROM carto_pin p
WHERE ST_DWithin(p.public_location, ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 2154), 1500)
  AND p.status = ANY(%s)
ORDER BY similarity(p.text, %s) DESC, p.id DESC LIMIT 10
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    use_bench_database()
    ensure_pins(args.count, args.groups)

    from django.contrib.gis.geos import Point
    from django.db import connection, transaction
    from django.test import Client

    from carto.geo import to_api, to_storage
    from carto.models import Pin
    from carto.services.similar import CANDIDATES, CANDIDATES_SQL, WINDOW_M

    client = Client()
    api_times, bare_times, recall, baseline_recall = [], [], [], []
    for g in range(min(args.groups, args.queries)):
        members = {
            m: Pin.objects.select_related("theme").get(client_uuid=group_uuid(SEED, g, m))
            for m in range(GROUP_SIZE)
        }
        query_pin = members[0]
        relevant = {members[m].pk for m in range(1, GROUP_SIZE)}
        here = to_api(query_pin.public_location)
        text = GROUPS[g % len(GROUPS)][2][0]
        params = {"lat": here.y, "lon": here.x, "theme": query_pin.theme.slug, "text": text}

        started = time.perf_counter()
        response = client.get("/api/pins/similar/", params)
        api_times.append(time.perf_counter() - started)
        found = {r["id"] for r in response.json()["results"]} - {query_pin.pk}
        recall.append(len(found & relevant) / len(relevant))

        point = to_storage(Point(here.x, here.y, srid=4326)).ewkt
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                CANDIDATES_SQL,
                {
                    "point": point,
                    "visible": list(Pin.VISIBLE_STATUSES),
                    "window": WINDOW_M,
                    "limit": CANDIDATES,
                },
            )
            cursor.fetchall()
        bare_times.append(time.perf_counter() - started)

        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [here.x, here.y, list(Pin.VISIBLE_STATUSES), text])
            base = {row[0] for row in cursor.fetchall()} - {query_pin.pk}
        baseline_recall.append(len(base & relevant) / len(relevant))

    warm = max(1, len(api_times) // 10)
    api_p50, bare_p50 = statistics.median(api_times[warm:]), statistics.median(bare_times[warm:])
    print(f"pins in table: {Pin.objects.count()}, queries: {len(api_times)}")
    print(f"endpoint p50 {api_p50 * 1000:.1f} ms p95 {pct(api_times[warm:], 0.95) * 1000:.1f} ms; "
          f"bare SQL p50 {bare_p50 * 1000:.1f} ms p95 {pct(bare_times[warm:], 0.95) * 1000:.1f} ms")  # fmt: skip
    print(f"ratio endpoint / bare SQL (p50): {api_p50 / bare_p50:.2f}x (target <= 1.5x, p95 <= 50 ms)")
    print(
        f"recall@5: {statistics.mean(recall):.3f}  plain trigram baseline (top 10): {statistics.mean(baseline_recall):.3f}"
    )
    api_p95 = pct(api_times[warm:], 0.95)
    emit("pins_similar", "endpoint p50 / bare SQL p50", api_p50 * 1000, bare_p50 * 1000, api_p50 / bare_p50,
         "<= 1.5x", api_p50 / bare_p50 <= 1.5)  # fmt: skip
    emit(
        "pins_similar",
        "endpoint p95 (absolute, ms)",
        api_p95 * 1000,
        None,
        None,
        "<= 50 ms",
        api_p95 <= 0.050,
    )
    emit("pins_similar", "recall@5 / plain trigram recall@10", statistics.mean(recall),
         statistics.mean(baseline_recall), statistics.mean(recall) / max(statistics.mean(baseline_recall), 1e-9),
         "> 1x", statistics.mean(recall) > statistics.mean(baseline_recall))  # fmt: skip


if __name__ == "__main__":
    main()
