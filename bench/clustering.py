"""Clustering as production runs it: quality on the devset, and incremental assignment cost.

    .venv/bin/python bench/clustering.py quality            # no database needed
    .venv/bin/python bench/clustering.py speed --pins 20000 # a throw-away database (CARTO_BENCH_DATABASE)

quality: carto.services.cluster_rebuild.greedy_groups (the candidate rule, centroid truncation and theme
bonus of cluster_assign) on fixtures/clustering_devset.json in the arrival orders of
bench/cluster_quality.py, with pairwise precision/recall/F1 and the adjusted Rand index; a threshold
sweep, and the same run without candidate restriction or theme bonus to show what each costs.

speed: generated pins (devset wordings with slips, across communes), `recluster`, then p95 of one
`cluster_assign` against the bare candidate query it starts with (ratio in the same run).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from bench.cluster_quality import adjusted_rand, orders_for, pairwise_prf  # noqa: E402
from carto import textsim  # noqa: E402
from carto.services import cluster_rebuild, clustering  # noqa: E402

DEVSET = ROOT / "fixtures" / "clustering_devset.json"


def devset_items() -> list[tuple[str, str, str]]:
    """(text, truth label, theme the resident picked)."""
    import json

    data = json.loads(DEVSET.read_text(encoding="utf-8"))
    items = []
    for group in data["groups"]:
        themes = group.get("pin_themes") or [group["theme"]] * len(group["texts"])
        items += [(t, group["id"], th) for t, th in zip(group["texts"], themes, strict=True)]
    items += [(s["text"], f"single-{n}", s["theme"]) for n, s in enumerate(data["singletons"])]
    return items


def run(items, orders: Sequence[Sequence[int]]) -> tuple[float, float, float, float, float]:
    model = textsim.TfidfModel().fit(t for t, _, _ in items)
    truth = [label for _, label, _ in items]
    scores = []
    for order in orders:
        groups = cluster_rebuild.greedy_groups([(i, items[i][0], items[i][2]) for i in order], model)
        pred = [0] * len(items)
        for g, group in enumerate(groups):
            for i in group.members:
                pred[i] = g
        p, r, f = pairwise_prf(pred, truth)
        scores.append((p, r, f, adjusted_rand(pred, truth), len(groups)))
    return tuple(statistics.fmean(s[k] for s in scores) for k in range(5))  # type: ignore[return-value]


def run_e5(items, orders: Sequence[Sequence[int]]):
    """The e5 production path (greedy_groups_e5, devset mean) + cross-lingual shares (en, ar)."""
    import numpy as np

    from carto.clustering import embeddings as e5

    raw = e5.encode_raw([t for t, _, _ in items])
    units = e5.centre(raw, e5.default_mean())
    truth = [label for _, label, _ in items]
    scores = []
    for order in orders:
        groups = cluster_rebuild.greedy_groups_e5(
            [(i, items[i][0], items[i][2]) for i in order], units[np.asarray(order)]
        )
        pred = [0] * len(items)
        for g, group in enumerate(groups):
            for i in group.members:
                pred[i] = g
        p, r, f = pairwise_prf(pred, truth)
        cross = {}
        for script, test in (("en", _english), ("ar", _arabic)):
            hits = [
                any(
                    pred[j] == pred[i] and not _english(items[j][0]) and not _arabic(items[j][0])
                    for j in range(len(items))
                    if truth[j] == truth[i] and j != i
                )
                for i in range(len(items))
                if test(items[i][0]) and not truth[i].startswith("single-")
            ]
            cross[script] = sum(hits) / len(hits) if hits else float("nan")
        scores.append((p, r, f, adjusted_rand(pred, truth), len(groups), cross["en"], cross["ar"]))
    return tuple(statistics.fmean(s[k] for s in scores) for k in range(7))


def _arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


_EN = {"the", "my", "is", "no", "to", "and", "there", "in", "of", "for", "i", "we", "our", "nowhere"}


def _english(text: str) -> bool:
    words = text.lower().split()
    return sum(w in _EN for w in words) >= 2 and text.isascii()


def quality(args) -> None:
    items = devset_items()
    orders = orders_for(len(items), args.orders)
    from carto.clustering import embeddings as e5

    if e5.available():
        saved_e5 = (e5.THRESHOLD, e5.THEME_BONUS)
        print(
            f"{'e5 variant':<30} {'thr':>5} {'bonus':>5} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} {'clust':>6} {'en':>5} {'ar':>5}"
        )
        grid = [(saved_e5[0], saved_e5[1]), (saved_e5[0], 0.0)]
        if args.sweep:
            grid += [(t, b) for t in (0.23, 0.25, 0.29, 0.31) for b in (0.0, 0.02, 0.05)]
        for thr, bonus in grid:
            e5.THRESHOLD, e5.THEME_BONUS = thr, bonus
            p, r, f, ari, k, en, ar = run_e5(items, orders)
            name = "production (e5)" if (thr, bonus) == saved_e5 else "  variant"
            print(
                f"{name:<30} {thr:5.2f} {bonus:5.2f} {p:6.3f} {r:6.3f} {f:6.3f} {ari:6.3f} {k:6.1f} {en:5.2f} {ar:5.2f}",
                flush=True,
            )
        e5.THRESHOLD, e5.THEME_BONUS = saved_e5
    truth_clusters = len({label for _, label, _ in items})
    print(f"devset: {len(items)} texts, {truth_clusters} true clusters, {len(orders)} arrival orders")
    print(f"{'variant':<44} {'thr':>5} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} {'clusters':>8}")
    saved = (clustering.THRESHOLD, clustering.THEME_BONUS, cluster_rebuild.CANDIDATES)

    def line(name: str) -> None:
        p, r, f, ari, k = run(items, orders)
        print(
            f"{name:<44} {clustering.THRESHOLD:5.2f} {p:6.3f} {r:6.3f} {f:6.3f} {ari:6.3f} {k:8.1f}",
            flush=True,
        )

    line("production (index candidates + theme bonus)")
    clustering.THEME_BONUS = 0.0
    line("  without theme bonus")
    clustering.THEME_BONUS = saved[1]
    cluster_rebuild.CANDIDATES = 10**9
    line("  every sharing cluster a candidate")
    cluster_rebuild.CANDIDATES = saved[2]
    if args.sweep:
        for thr in (0.09, 0.11, 0.13, 0.15, 0.17, 0.20):
            clustering.THRESHOLD = thr
            line("  threshold sweep")
    clustering.THRESHOLD, clustering.THEME_BONUS, cluster_rebuild.CANDIDATES = saved


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
        items = devset_items()
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
    q = sub.add_parser("quality")
    q.add_argument("--orders", type=int, default=5)
    q.add_argument("--sweep", action="store_true")
    s = sub.add_parser("speed")
    s.add_argument("--pins", type=int, default=20000)
    s.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    quality(args) if args.command == "quality" else speed(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
