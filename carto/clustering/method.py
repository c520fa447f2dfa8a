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
from collections.abc import Callable, Iterable, Sequence
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


# Rows scored together against the clusters of the batch's first pass: one matrix product per chunk
# (BLAS-3) instead of one matrix-vector product per row, which at 1 M pins re-read every cluster sum a
# million times. Exact: what rows of the same chunk add to a cluster is added back from their Gram matrix.
STRICT_CHUNK = 512


def strict_assign(
    units: np.ndarray,
    *,
    threshold: float,
    cannot: Sequence[set[int]] | None = None,
    frozen: frozenset[int] = frozenset(),
    progress: Callable[[str], None] | None = None,
) -> list[int]:
    """First pass, in row order: a row joins the cluster of highest mean cosine if it reaches
    `threshold` and no cannot-link forbids it, else starts one. Returns each row's cluster index.

    `cannot[i]` are rows that row i may not share a cluster with; `frozen` rows start alone and are
    never joined (a curator split the pin out). Ties go to the lower cluster index.
    """
    n, dim = units.shape
    sums = np.zeros((min(max(16, n), 1024), dim), dtype=np.float32)  # grows by doubling
    sizes = np.zeros(len(sums), dtype=np.float32)
    closed = np.zeros(len(sums), dtype=bool)
    k = 0
    label = [-1] * n
    for start in range(0, n, STRICT_CHUNK):
        rows = units[start : start + STRICT_CHUNK]
        known = k  # clusters whose sums the chunk's product saw
        base = rows @ sums[:known].T if known else np.zeros((len(rows), 0), dtype=np.float32)
        gram = rows @ rows.T
        chunk_labels = np.empty(len(rows), dtype=np.int64)
        for r in range(len(rows)):
            i = start + r
            best = -1
            if i not in frozen and k:
                dot = np.zeros(k, dtype=np.float32)
                dot[:known] = base[r]
                np.add.at(dot, chunk_labels[:r], gram[r, :r])
                scores = dot / sizes[:k]
                scores[closed[:k]] = -np.inf
                best = _best_allowed(scores, threshold, cannot[i] if cannot else (), label)
            if best < 0:
                if k == len(sums):
                    sums = np.vstack([sums, np.zeros_like(sums)])
                    sizes = np.concatenate([sizes, np.zeros_like(sizes)])
                    closed = np.concatenate([closed, np.zeros_like(closed)])
                best, k = k, k + 1
                closed[best] = i in frozen
            sums[best] += units[i]
            sizes[best] += 1
            label[i] = best
            chunk_labels[r] = best
        if progress and (start // STRICT_CHUNK) % 100 == 99:
            progress(f"  first pass: {start + len(rows)}/{n} rows, {k} clusters")
    return label


def _best_allowed(
    scores: np.ndarray, threshold: float, forbidden_rows: Iterable[int], label: list[int]
) -> int:
    """The highest-scoring cluster reaching `threshold` that holds none of `forbidden_rows`, or -1."""
    best = int(np.argmax(scores))  # the first of equal maxima: the lower index
    if scores[best] < threshold:
        return -1
    banned = {label[j] for j in forbidden_rows if label[j] >= 0}
    if best not in banned:
        return best
    for c in np.argsort(-scores, kind="stable"):  # rare: a curator's cannot-link in the way
        if scores[c] < threshold:
            return -1
        if int(c) not in banned:
            return int(c)
    return -1


# Candidate neighbours kept per cluster while merging. Memory is k x NEIGHBOURS ids whatever the data:
# holding every pair above the threshold took 8 GB at 100 k pins of look-alike texts (4,000 pairs per
# cluster), and the whole pair matrix would be k^2. On those 21,573 first-pass clusters (bench/
# recluster_scale.py): 32 candidates -> 6,098 full scans, 85 s; 128 -> 485 scans, 47 s; 512 -> 129, 48 s.
NEIGHBOURS = 128


class _Neighbours:
    """Each cluster's best candidates and a cutoff: any current cluster that holds none of the
    candidates is at most `cutoff` similar to it (the invariant that keeps the merging exact).

    Average link is reducible: sim(C, A ∪ B) is the size-weighted mean of sim(C, A) and sim(C, B),
    so it is never above both. Hence a merge only lowers similarities, the union's candidates are those
    of A and B, and the union's cutoff is the larger of theirs; when a cluster's candidates all fall
    below its cutoff, its candidates are computed again against every cluster (one matrix-vector product).
    """

    def __init__(self, groups: Groups, threshold: float, frozen: frozenset[int], limit: int) -> None:
        self.g, self.threshold, self.limit = groups, threshold, limit
        k = len(groups.sizes)
        self.parent = list(range(k))
        self.alive = np.ones(k, dtype=bool)
        for i in frozen:
            self.alive[i] = False  # never a candidate, never merged
        self.cand: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * k
        self.cutoff = np.full(k, -np.inf, dtype=np.float64)

    def similarities(self, c: int, ids: np.ndarray) -> np.ndarray:
        g = self.g
        return (g.sums[ids] @ g.sums[c]) / (g.sizes[ids] * g.sizes[c])

    def keep(self, c: int, ids: np.ndarray, scores: np.ndarray) -> None:
        """Keep the best `limit` of ids (scores at or above the threshold); the best one left out sets
        the cutoff (or nothing left out reaches the threshold: -inf)."""
        above = scores >= self.threshold
        ids, scores = ids[above], scores[above]
        if len(ids) > self.limit:
            # The limit + 1 best, then the one left out sets the cutoff.
            part = np.argpartition(-scores, self.limit)[: self.limit + 1]
            order = part[np.argsort(-scores[part], kind="stable")]
            self.cutoff[c] = max(self.cutoff[c], float(scores[order[self.limit]]))
            ids = ids[order[: self.limit]]
        self.cand[c] = ids

    def scan(self, c: int) -> None:
        """Candidates of c against every live cluster (one product over all rows: no copy of the live
        ones, the dead and c itself are masked after)."""
        g = self.g
        scores = (g.sums @ g.sums[c]) / (g.sizes * g.sizes[c])
        scores[~self.alive] = -np.inf
        scores[c] = -np.inf
        ids = np.flatnonzero(scores >= self.threshold)
        self.cutoff[c] = -np.inf
        self.keep(c, ids, scores[ids].astype(np.float64))

    def scan_all(self, progress: Callable[[str], None] | None) -> None:
        """Every cluster's candidates, 256 rows at a time (a block is 256 x k, never k x k)."""
        g = self.g
        live = np.flatnonzero(self.alive)
        means = g.sums[live] / g.sizes[live, None]
        for start in range(0, len(live), 256):
            block = means[start : start + 256] @ means.T
            for r in range(len(block)):
                block[r, start + r] = -np.inf  # not its own neighbour
                self.keep(int(live[start + r]), live, block[r].astype(np.float64))
            if progress and (start // 256) % 100 == 99:
                progress(f"  candidate neighbours: {start + 256}/{len(live)} clusters")

    def root(self, i: int) -> int:
        return _root(self.parent, i)

    def best(self, c: int) -> tuple[float, int] | None:
        """The live cluster most similar to c at or above the threshold (ties: lowest index), or None."""
        while True:
            ids = np.unique([self.root(int(j)) for j in self.cand[c]]).astype(np.int64)
            banned = self.g.cannot[c]
            ids = ids[self.alive[ids] & (ids != c)]
            if banned:
                ids = ids[[int(j) not in banned for j in ids]]
            top, partner = -np.inf, -1
            if len(ids):
                scores = self.similarities(c, ids)
                at = int(np.argmax(scores))
                top, partner = float(scores[at]), int(ids[at])
            if top >= self.cutoff[c] or self.cutoff[c] < self.threshold:
                return (top, partner) if top >= self.threshold and partner >= 0 else None
            self.scan(c)  # something outside the candidates may now be the best

    def merge(self, a: int, b: int) -> None:
        """b joins a: sums, sizes, cannot-links, candidates (the union's) and cutoff (the larger)."""
        g = self.g
        self.parent[b] = a
        self.alive[b] = False
        g.sums[a] += g.sums[b]
        g.sizes[a] += g.sizes[b]
        for c in g.cannot[b]:
            g.cannot[c].discard(b)
            g.cannot[c].add(a)
        g.cannot[a] |= g.cannot[b]
        self.cutoff[a] = max(self.cutoff[a], self.cutoff[b])
        ids = np.unique([self.root(int(j)) for j in np.concatenate([self.cand[a], self.cand[b]])])
        ids = ids[self.alive[ids] & (ids != a)].astype(np.int64)
        self.keep(a, ids, self.similarities(a, ids) if len(ids) else np.empty(0))
        self.cand[b] = np.empty(0, dtype=np.int64)


def agglomerate(
    groups: Groups,
    *,
    threshold: float,
    frozen: frozenset[int] = frozenset(),
    progress: Callable[[str], None] | None = None,
    neighbours: int = NEIGHBOURS,
) -> list[int]:
    """Exact average-link agglomeration of `groups` down to `threshold`; returns, per group, the
    index of the group it ends in (a representative).

    The most similar pair is merged first (ties by index: deterministic), found from each cluster's
    best neighbour in a heap (generic algorithm with lazy updates: an entry whose clusters changed is
    re-evaluated when it comes up; merges only lower similarities, so a stale entry is an upper bound).
    Pairs tied by a cannot-link never merge; `frozen` groups never merge. Memory: k x `neighbours`
    candidate ids (_Neighbours), never the pairs above the threshold nor the whole matrix.
    """
    k = len(groups.sizes)
    nb = _Neighbours(groups, threshold, frozen, neighbours)
    nb.scan_all(progress)
    version = [0] * k
    heap: list[tuple[float, int, int, int, int, int, int]] = []

    def push(c: int) -> None:
        found = nb.best(c)
        if found is not None:
            score, p = found
            heapq.heappush(heap, (-score, min(c, p), max(c, p), c, version[c], p, version[p]))

    for c in np.flatnonzero(nb.alive):
        push(int(c))
    merges = 0
    while heap:
        _, lo, hi, owner, v_owner, partner, v_partner = heapq.heappop(heap)
        if not nb.alive[owner] or version[owner] != v_owner:
            continue  # the owner changed: it was pushed again then
        if not nb.alive[partner] or version[partner] != v_partner:
            push(owner)  # its best neighbour changed: look again
            continue
        nb.merge(lo, hi)
        version[lo] += 1
        merges += 1
        push(lo)
        if progress and merges % 20000 == 0:
            progress(f"  merged {merges} pairs")
    return [nb.root(i) for i in range(k)]


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
    progress: Callable[[str], None] | None = None,
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
    start = strict_assign(
        _unit(sums), threshold=params.strict, cannot=cannot, frozen=frozen_reps, progress=progress
    )
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
    if progress:
        progress(f"  first pass: {n} rows in {k} clusters; average-link merging")
    final = agglomerate(
        Groups(g_sums, g_sizes, g_cannot), threshold=params.merge, frozen=g_frozen, progress=progress
    )
    labels = [final[start[index[comp[i]]]] for i in range(n)]
    renumber: dict[int, int] = {}
    return [renumber.setdefault(c, len(renumber)) for c in labels]


def twin_score(pin_cosine: np.ndarray | float, cluster_cosine: np.ndarray | float) -> np.ndarray | float:
    """How much a pin is a twin of a text: the mean of its own cosine with the text and of the mean
    cosine between the text and its cluster's pins. The cluster half steadies a pin worded oddly;
    the pin half keeps a big, loose cluster from lending every member the same score
    (bench/cluster_quality.py: precision@5 / recall@5 above either half alone)."""
    return (pin_cosine + cluster_cosine) / 2
