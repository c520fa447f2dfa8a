"""The clustering method, in plain numpy: whitened e5 vectors, strict online assignment, then exact
average-link merging over cluster vector sums, with curators' must-link / cannot-link pairs.

Chosen by measurement (bench/cluster_quality.py, labelled set split by need into a tuning half and a
checking half; README "Clustering"). Both the rebuild (`recluster`) and the incremental path
(carto.services.clustering) use these functions, so they apply one rule: two groups of pins are the
same need when the mean cosine between their pins reaches `merge`.

Why average link over sums: with unit vectors, the mean cosine between the pins of A and B is
sum(A)·sum(B) / (|A|·|B|), so a cluster is fully described by its vector sum and its size, and
merging never compares pins one by one.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Params:
    """Thresholds on the mean cosine of whitened vectors (tuned on the tuning half only)."""

    # A pin joins a cluster during the batch's first pass from this mean cosine: small, nearly pure
    # clusters that spare the merge step most pairs. Never below `merge`.
    strict: float
    # Two clusters (a new pin is a cluster of one) are the same need from this mean cosine.
    merge: float
    # Weight of the identity in the within-class covariance (0 = pure whitening, 1 = none).
    shrinkage: float
    # Weight of the theme the resident picked: two pins' similarity is (1 - w) x their texts' cosine
    # + w x [same theme]. A hint, never a wall (residents pick themes loosely).
    theme_weight: float = 0.0


class Transform:
    """Raw e5 vector -> centred, whitened unit vector: (x - mean) / |x - mean| @ matrix, normalised."""

    def __init__(self, mean: np.ndarray, matrix: np.ndarray | None = None) -> None:
        self.mean = np.asarray(mean, dtype=np.float32)
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.float32)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        out = _unit(np.atleast_2d(raw).astype(np.float32) - self.mean)
        if self.matrix is not None:
            out = _unit(out @ self.matrix)
        return out


def themed(units: np.ndarray, themes: Sequence[str], weight: float) -> np.ndarray:
    """Unit rows with the theme as weighted one-hot columns: a row times a row is (1 - w) cos + w [same
    theme], and a sum of rows keeps its clusters' theme counts, so average link works unchanged."""
    slugs = {slug: col for col, slug in enumerate(sorted(set(themes)))}
    onehot = np.zeros((len(themes), len(slugs)), dtype=np.float32)
    onehot[np.arange(len(themes)), [slugs[t] for t in themes]] = 1.0
    return np.hstack([units * np.float32(np.sqrt(1.0 - weight)), onehot * np.float32(np.sqrt(weight))])


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return rows / norms


def fit_whitening(units: np.ndarray, groups: Iterable[Sequence[int]], *, shrinkage: float) -> np.ndarray:
    """The symmetric map Sw^-1/2 of the within-group covariance of centred unit vectors (rows of
    `units`; each group lists row indices of one need, size >= 2), shrunk towards the identity.

    It flattens the directions along which texts of one need vary (wording, language, register) and
    so lifts the directions that tell needs apart. One pair of the same need is a group of two.
    """
    dim = units.shape[1]
    scatter = np.zeros((dim, dim), dtype=np.float64)
    count = 0
    for rows in groups:
        if len(rows) < 2:
            continue
        block = units[list(rows)].astype(np.float64)
        block -= block.mean(axis=0)
        scatter += block.T @ block
        count += len(rows) - 1
    if count == 0:
        return np.eye(dim, dtype=np.float32)
    within = scatter / count
    target = np.trace(within) / dim
    within = (1.0 - shrinkage) * within + shrinkage * target * np.eye(dim)
    values, vectors = np.linalg.eigh(within)
    return ((vectors / np.sqrt(values)) @ vectors.T * np.sqrt(target)).astype(np.float32)


@dataclass
class Groups:
    """Clusters as vector sums and sizes, with cannot-link sets between them (by index)."""

    sums: np.ndarray
    sizes: np.ndarray
    cannot: list[set[int]]

    def mean_cosine(self, a: int, b: int) -> float:
        return float(self.sums[a] @ self.sums[b]) / float(self.sizes[a] * self.sizes[b])


def strict_assign(
    units: np.ndarray,
    *,
    threshold: float,
    cannot: Sequence[set[int]] | None = None,
    frozen: frozenset[int] = frozenset(),
) -> list[int]:
    """First pass, in row order: a row joins the cluster of highest mean cosine if it reaches
    `threshold` and no cannot-link forbids it, else starts one. Returns each row's cluster index.

    `cannot[i]` are rows that row i may not share a cluster with; `frozen` rows start alone and are
    never joined (a curator split the pin out).
    """
    n, dim = units.shape
    sums = np.zeros((max(16, n), dim), dtype=np.float32)
    sizes = np.zeros(max(16, n), dtype=np.float32)
    closed: list[bool] = []
    label = [-1] * n
    for i in range(n):
        best = -1
        if i not in frozen and closed:
            k = len(closed)
            scores = (sums[:k] @ units[i]) / sizes[:k]
            scores[np.asarray(closed)] = -np.inf
            for c in np.argsort(-scores, kind="stable"):
                if scores[c] < threshold:
                    break
                if not cannot or not any(label[j] == c for j in cannot[i]):
                    best = int(c)
                    break
        if best < 0:
            best = len(closed)
            closed.append(i in frozen)
        sums[best] += units[i]
        sizes[best] += 1
        label[i] = best
    return label


def agglomerate(groups: Groups, *, threshold: float, frozen: frozenset[int] = frozenset()) -> list[int]:
    """Exact average-link agglomeration of `groups` down to `threshold`; returns, per group, the
    index of the group it ends in (a representative).

    Only pairs at or above the threshold are ever looked at: the mean cosine of A∪B with C is the
    size-weighted mean of those of A and B, so C can reach the threshold with A∪B only if it reached
    it with A or with B. The highest pair is merged first (ties by index: deterministic); pairs tied
    by a cannot-link are skipped; `frozen` groups never merge.
    """
    k = len(groups.sizes)
    means = groups.sums / groups.sizes[:, None]
    neighbours: list[set[int]] = [set() for _ in range(k)]
    heap: list[tuple[float, int, int, int, int]] = []
    version = [0] * k
    for start in range(0, k, 2048):
        block = means[start : start + 2048] @ means.T
        for a, b in zip(*np.nonzero(block >= threshold), strict=True):
            a = int(a) + start
            b = int(b)
            if a < b and a not in frozen and b not in frozen:
                neighbours[a].add(b)
                neighbours[b].add(a)
                heap.append((-float(block[a - start, b]), a, b, 0, 0))
    heapq.heapify(heap)
    parent = list(range(k))
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if parent[a] != a or parent[b] != b or version[a] != va or version[b] != vb:
            continue  # stale: one side merged since
        if b in groups.cannot[a]:
            continue
        # b joins a.
        parent[b] = a
        groups.sums[a] += groups.sums[b]
        groups.sizes[a] += groups.sizes[b]
        for c in groups.cannot[b]:
            groups.cannot[c].discard(b)
            groups.cannot[c].add(a)
        groups.cannot[a] |= groups.cannot[b]
        version[a] += 1
        around = (neighbours[a] | neighbours[b]) - {a, b}
        for c in neighbours[b]:
            neighbours[c].discard(b)
        neighbours[b] = set()
        neighbours[a] = set()
        for c in sorted(around):
            neighbours[c].discard(a)
            score = groups.mean_cosine(a, c)
            if score >= threshold:
                neighbours[a].add(c)
                neighbours[c].add(a)
                lo, hi = min(a, c), max(a, c)
                heapq.heappush(heap, (-score, lo, hi, version[lo], version[hi]))
    return [_root(parent, i) for i in range(k)]


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def cluster_rows(
    units: np.ndarray,
    params: Params,
    *,
    same: Iterable[tuple[int, int]] = (),
    different: Iterable[tuple[int, int]] = (),
    frozen: frozenset[int] = frozenset(),
) -> list[int]:
    """The whole method on whitened unit rows: must-link pairs (`same`) first put together, strict
    online assignment, then average-link merging; `different` pairs never end in one cluster
    (unless a chain of `same` pairs ties them: the must-links win). Returns a cluster index per row,
    numbered by first row."""
    n = len(units)
    if n == 0:
        return []
    # Must-link components become one starting row each (their vector sum, their size).
    parent = list(range(n))
    for a, b in same:
        ra, rb = _root(parent, a), _root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comp = [_root(parent, i) for i in range(n)]
    reps = sorted(set(comp))
    index = {r: k for k, r in enumerate(reps)}
    sums = np.zeros((len(reps), units.shape[1]), dtype=np.float32)
    sizes = np.zeros(len(reps), dtype=np.float32)
    for i in range(n):
        sums[index[comp[i]]] += units[i]
        sizes[index[comp[i]]] += 1
    cannot: list[set[int]] = [set() for _ in reps]
    for a, b in different:
        ca, cb = index[comp[a]], index[comp[b]]
        if ca != cb:
            cannot[ca].add(cb)
            cannot[cb].add(ca)
    frozen_reps = frozenset(index[comp[i]] for i in frozen)
    # Strict pass over the starting rows (a component joins with its mean vector).
    start = strict_assign(_unit(sums), threshold=params.strict, cannot=cannot, frozen=frozen_reps)
    k = max(start) + 1
    g_sums = np.zeros((k, units.shape[1]), dtype=np.float32)
    g_sizes = np.zeros(k, dtype=np.float32)
    g_cannot: list[set[int]] = [set() for _ in range(k)]
    for r, c in enumerate(start):
        g_sums[c] += sums[r]
        g_sizes[c] += sizes[r]
    for r, others in enumerate(cannot):
        g_cannot[start[r]].update(start[o] for o in others)
    g_frozen = frozenset(start[r] for r in frozen_reps)
    final = agglomerate(Groups(g_sums, g_sizes, g_cannot), threshold=params.merge, frozen=g_frozen)
    labels = [final[start[index[comp[i]]]] for i in range(n)]
    renumber: dict[int, int] = {}
    return [renumber.setdefault(c, len(renumber)) for c in labels]


def twin_score(pin_cosine: np.ndarray | float, cluster_cosine: np.ndarray | float) -> np.ndarray | float:
    """How much a pin is a twin of a text: the mean of its own cosine with the text and of the mean
    cosine between the text and its cluster's pins. The cluster half steadies a pin worded oddly;
    the pin half keeps a big, loose cluster from lending every member the same score
    (bench/cluster_quality.py: precision@5 / recall@5 above either half alone)."""
    return (pin_cosine + cluster_cosine) / 2
