"""Clustering speed as production runs it (quality is bench/cluster_quality.py).

    .venv/bin/python bench/clustering.py speed --pins 20000 # a throw-away database (CARTO_BENCH_DATABASE)

speed: generated pins (labelled-set wordings with slips, across communes), `recluster`, then p95 of one
`cluster_assign` against the bare candidate query it starts with (ratio in the same run).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from carto.services import cluster_rebuild, clustering  # noqa: E402

LABELLED = ROOT / "fixtures" / "clustering_labelled.json"


def labelled_items() -> list[tuple[str, str, str]]:
    """(text, truth label, theme the resident picked)."""
    import json

    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    items = []
    for group in data["groups"]:
        themes = group.get("pin_themes") or [group["theme"]] * len(group["texts"])
        items += [(t, group["id"], th) for t, th in zip(group["texts"], themes, strict=True)]
    items += [(s["text"], f"single-{n}", s["theme"]) for n, s in enumerate(data["singletons"])]
    return items


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def speed(args) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from carto.models import Pin, Territory, Theme

    settings.DATABASES["default"]["TEST"]["NAME"] = os.environ.get("CARTO_BENCH_DATABASE", "bench_carto")
    config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        call_command("load_all", verbosity=0)
        rng = random.Random(0)
        items = labelled_items()
        themes = {t.slug: t for t in Theme.objects.all()}
        communes = list(Territory.objects.filter(kind="commune").exclude(geometry=None).order_by("code"))
        points = []
        for commune in communes:
            p = commune.geometry.point_on_surface
            points.append((commune, p))

        def variant(text: str) -> str:
            words = text.split()
            if len(words) > 4 and rng.random() < 0.5:
                words.pop(rng.randrange(len(words)))
            if rng.random() < 0.3:
                i = rng.randrange(len(words))
                w = words[i]
                if len(w) > 4:
                    j = rng.randrange(1, len(w) - 1)
                    words[i] = w[:j] + w[j + 1 :]
            return " ".join(words)

        started = time.perf_counter()
        batch = []
        for n in range(args.pins):
            text, _, theme = items[rng.randrange(len(items))]
            commune, point = points[rng.randrange(len(points))]
            batch.append(
                Pin(
                    client_uuid=f"00000000-0000-4000-8000-{n:012d}",
                    request_fingerprint="bench",
                    kind="need",
                    theme=themes[theme],
                    text=variant(text) or text,
                    location=point,
                    public_location=point,
                    commune=commune,
                    ept_id=commune.parent_id,
                )
            )
        Pin.objects.bulk_create(batch, batch_size=5000)
        print(f"generated {args.pins} pins in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        summary = cluster_rebuild.clusters_rebuild(progress=None)
        print(f"{summary} in {time.perf_counter() - started:.1f} s")

        model = clustering.current_model()
        assign_ms, query_ms, vector_ms = [], [], []
        for n in range(args.samples):
            text, _, theme = items[rng.randrange(len(items))]
            commune, point = points[rng.randrange(len(points))]
            pin = Pin.objects.create(
                client_uuid=f"10000000-0000-4000-8000-{n:012d}",
                request_fingerprint="bench",
                kind="need",
                theme=themes[theme],
                text=variant(text) or text,
                location=point,
                public_location=point,
                commune=commune,
                ept_id=commune.parent_id,
            )
            tv = time.perf_counter()
            terms = clustering.key_terms(model.vector(pin.text), limit=1000)
            t0 = time.perf_counter()
            vector_ms.append((t0 - tv) * 1000)
            clustering.candidate_ids(terms)
            t1 = time.perf_counter()
            clustering.cluster_assign(pin)
            t2 = time.perf_counter()
            query_ms.append((t1 - t0) * 1000)
            assign_ms.append((t2 - t1) * 1000)
        a, q = p95(assign_ms), p95(query_ms)
        print(f"cluster_assign p95 {a:.1f} ms, bare candidate query p95 {q:.1f} ms, ratio {a / q:.1f}x")
        print(f"  of which vectorising the text p95 {p95(vector_ms):.1f} ms")
    finally:
        connection.close()
        teardown_databases(config, verbosity=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--pins", type=int, default=20000)
    s.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    speed(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
