"""GET /api/pins/similar/ against the same work done bare, and its recall on duplicate groups.

    .venv/bin/python bench/pins_similar.py [--count 100000] [--queries 200]

Set-up (printed): every pin without a stored e5 embedding gets one, as the write path stores it
(carto.services.clustering); the request itself never encodes other people's pins. The generated pins
hold ~400 distinct texts, so they are encoded once per distinct text (as raw_embeddings does): 15-75 s,
then one INSERT … SELECT (~1 min at 1 M). Real pins are mostly distinct: there the write path pays
~20-45 ms per pin, once. No clusters are built for the bench data (a pin without one is scored on its
own cosine, both halves of the twin score), before and after alike.

For each generated group of reworded duplicates (bench/generate_pins.py), the first wording is the
query, asked from that pin's public location with its theme; the 4 other wordings are the pins it
should find. Recall is over the endpoint's ≤ 5 cards, beside a plain trigram baseline's top 10
(pg_trgm similarity() on the raw text within the same window). Timings, in the same run, per query:
the endpoint through the Django test Client; its candidate SELECT (carto.services.similar.
CANDIDATES_SQL) run bare through psycopg; and the same text encoded bare by e5 (carto.clustering.
embeddings.encode_raw). "Bare" is the SELECT plus the encoding: the two things the endpoint cannot skip.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_pins import (  # noqa: E402
    GROUP_SIZE,
    GROUPS,
    SEED,
    ensure_pins,
    group_uuid,
    open_bare_cursor,
    use_bench_database,
)
from bench.run_all import emit  # noqa: E402

BASELINE_SQL = """
SELECT p.id FROM carto_pin p
WHERE ST_DWithin(p.public_location, ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 2154), 1500)
  AND p.status = ANY(%s)
ORDER BY similarity(p.text, %s) DESC, p.id DESC LIMIT 10
"""
MISSING_TEXTS_SQL = """
SELECT DISTINCT p.text FROM carto_pin p
WHERE NOT EXISTS (SELECT 1 FROM carto_pinembedding e WHERE e.pin_id = p.id)
"""
STORE_SQL = """
INSERT INTO carto_pinembedding (pin_id, vector)
SELECT p.id, v.vector FROM carto_pin p JOIN unnest(%s::text[], %s::bytea[]) AS v(text, vector) ON v.text = p.text
WHERE NOT EXISTS (SELECT 1 FROM carto_pinembedding e WHERE e.pin_id = p.id)
ON CONFLICT (pin_id) DO NOTHING
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ensure_embeddings() -> None:
    """Bench set-up: store the embedding of every pin that has none (what the write path leaves)."""
    from django.db import connection

    from carto.clustering import embeddings as e5

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # a bulk load, not a request
        cursor.execute(MISSING_TEXTS_SQL)
        texts = sorted(row[0] for row in cursor.fetchall())
        if not texts:
            print("set-up: every pin already has a stored embedding")
            return
        vectors = [
            e5.pack(v) for start in range(0, len(texts), 32) for v in e5.encode_raw(texts[start : start + 32])
        ]
        encoded = time.perf_counter() - started
        cursor.execute(STORE_SQL, [texts, vectors])
        stored = cursor.rowcount
        cursor.execute("ANALYZE carto_pinembedding")
    print(f"set-up: {len(texts)} distinct texts encoded in {encoded:.1f} s, embeddings stored for {stored} pins "
          f"in {time.perf_counter() - started - encoded:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    use_bench_database()
    ensure_pins(args.count, args.groups)
    ensure_embeddings()

    from django.contrib.gis.geos import Point
    from django.test import Client

    from carto.clustering import embeddings as e5
    from carto.geo import to_api, to_storage
    from carto.models import Pin
    from carto.services.similar import CANDIDATES_SQL, candidate_params

    # Every generated duplicate, by need: another group of the same need within the window holds true
    # twins that recall does not count (it counts the query's own group only).
    need_of = {
        pin_id: g % len(GROUPS)
        for g in range(args.groups)
        for pin_id in Pin.objects.filter(
            client_uuid__in=[group_uuid(SEED, g, m) for m in range(GROUP_SIZE)]
        ).values_list("id", flat=True)
    }
    client = Client()
    bare = open_bare_cursor()
    same_need: list[float] = []
    api_times, sql_times, encode_times, recall, baseline_recall, candidates = [], [], [], [], [], []
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

        point = to_storage(Point(here.x, here.y, srid=4326))

        # Whichever runs second finds the window's pages in cache: take turns (at 1 M pins the first
        # read of ~800 stored vectors costs ~8 ms more).
        for step in ("bare", "endpoint") if g % 2 else ("endpoint", "bare"):
            started = time.perf_counter()
            if step == "endpoint":
                response = client.get("/api/pins/similar/", params)
                api_times.append(time.perf_counter() - started)
                found = {r["id"] for r in response.json()["results"]} - {query_pin.pk}
                continue
            bare.execute(CANDIDATES_SQL, candidate_params(point=point, theme_slug=query_pin.theme.slug))
            candidates.append(len(bare.fetchall()))
            sql_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            e5.encode_raw([text])
            encode_times.append(time.perf_counter() - started)
        recall.append(len(found & relevant) / len(relevant))
        if found:
            same_need.append(sum(need_of.get(pin_id) == g % len(GROUPS) for pin_id in found) / len(found))

        bare.execute(BASELINE_SQL, [here.x, here.y, list(Pin.VISIBLE_STATUSES), text])
        base = {row[0] for row in bare.fetchall()} - {query_pin.pk}
        baseline_recall.append(len(base & relevant) / len(relevant))

    warm = max(1, len(api_times) // 10)
    api, sql, enc = api_times[warm:], sql_times[warm:], encode_times[warm:]
    both = [s + e for s, e in zip(sql, enc, strict=True)]
    ms = {name: (statistics.median(v) * 1000, pct(v, 0.95) * 1000)
          for name, v in {"api": api, "sql": sql, "enc": enc, "bare": both}.items()}  # fmt: skip
    print(f"pins in table: {Pin.objects.count()}, queries: {len(api_times)}, "
          f"candidates scored: median {statistics.median(candidates):.0f}, max {max(candidates)}")  # fmt: skip
    for name, label in [("api", "endpoint"), ("sql", "bare SELECT"), ("enc", "bare e5 encoding"),
                        ("bare", "bare SELECT + encoding")]:  # fmt: skip
        print(f"{label:24} p50 {ms[name][0]:7.1f} ms  p95 {ms[name][1]:7.1f} ms")
    print(f"ratio endpoint / (bare SELECT + encoding): p50 {ms['api'][0] / ms['bare'][0]:.2f}x, "
          f"p95 {ms['api'][1] / ms['bare'][1]:.2f}x (target <= 1.5x); endpoint / bare SELECT alone: "
          f"p50 {ms['api'][0] / ms['sql'][0]:.1f}x")  # fmt: skip
    mean_recall, mean_base = statistics.mean(recall), statistics.mean(baseline_recall)
    print(
        f"recall@5 (the endpoint's cards): {mean_recall:.3f}  plain trigram baseline (top 10): {mean_base:.3f}"
    )
    print(
        "cards (other than the query's own pin) saying the same generated need, from any group: "
        f"{statistics.mean(same_need) if same_need else 0.0:.3f}"
    )
    emit("pins_similar", "endpoint p50 / bare SELECT + e5 encoding p50", ms["api"][0], ms["bare"][0],
         ms["api"][0] / ms["bare"][0], "<= 1.5x", ms["api"][0] / ms["bare"][0] <= 1.5)  # fmt: skip
    emit("pins_similar", "endpoint p95 / bare SELECT + e5 encoding p95", ms["api"][1], ms["bare"][1],
         ms["api"][1] / ms["bare"][1], "<= 1.5x", ms["api"][1] / ms["bare"][1] <= 1.5)  # fmt: skip
    emit(
        "pins_similar",
        "endpoint p95 (absolute, ms)",
        ms["api"][1],
        None,
        None,
        "<= 50 ms",
        ms["api"][1] <= 50,
    )
    emit("pins_similar", "recall@5 / plain trigram recall@10", mean_recall, mean_base,
         mean_recall / max(mean_base, 1e-9), "> 1x", mean_recall > mean_base)  # fmt: skip


if __name__ == "__main__":
    main()
