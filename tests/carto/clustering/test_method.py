"""The clustering method in plain numpy: exact average link, curators' constraints, whitening."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from carto.clustering import method
from carto.clustering.method import (
    Groups,
    Params,
    Transform,
    agglomerate,
    cluster_rows,
    fit_whitening,
    strict_assign,
)


def unit_rows(n: int, dim: int = 8, *, seed: int) -> np.ndarray:
    """Points around a few random directions, so that some pairs pass a threshold and some do not."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, dim))
    rows = centres[rng.integers(0, 4, size=n)] + rng.normal(scale=0.9, size=(n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def naive_average_link(units: np.ndarray, threshold: float) -> list[frozenset[int]]:
    """Textbook agglomeration: merge the pair with the highest mean pairwise cosine until none reaches
    the threshold (comparing every pin pair every time)."""
    clusters = [[i] for i in range(len(units))]
    sims = units @ units.T
    while True:
        best, pair = threshold, None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            score = float(np.mean(sims[np.ix_(clusters[a], clusters[b])]))
            if score >= best and (pair is None or score > best):
                best, pair = score, (a, b)
        if pair is None:
            return sorted((frozenset(c) for c in clusters), key=min)
        a, b = pair
        clusters[a] += clusters.pop(b)


def partition(labels) -> list[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, set()).add(i)
    return sorted((frozenset(g) for g in groups.values()), key=min)


def row_by_row_strict(units, threshold, cannot, frozen) -> list[int]:
    """The first pass as written down: each row against every cluster's current pins, in row order."""
    members: list[list[int]] = []
    closed: list[bool] = []
    label = []
    for i, row in enumerate(units):
        best, best_score = -1, -np.inf
        if i not in frozen:
            for c, rows in enumerate(members):
                score = float(np.mean(units[rows] @ row))
                forbidden = any(j < i and label[j] == c for j in cannot[i])
                if not closed[c] and not forbidden and score >= threshold and score > best_score:
                    best, best_score = c, score
        if best < 0:
            best = len(members)
            members.append([])
            closed.append(i in frozen)
        members[best].append(i)
        label.append(best)
    return label


@pytest.mark.parametrize("seed", range(4))
def test_the_chunked_first_pass_decides_as_row_by_row(seed, monkeypatch):
    # Chunks of 7 rows over 60: rows of a chunk join clusters that other rows of the same chunk started.
    monkeypatch.setattr(method, "STRICT_CHUNK", 7)
    units = unit_rows(60, seed=seed)
    rng = np.random.default_rng(seed)
    cannot: list[set[int]] = [set() for _ in units]
    for a, b in rng.integers(0, 60, size=(6, 2)):
        if a != b:
            cannot[a].add(int(b))
            cannot[b].add(int(a))
    frozen = frozenset(int(i) for i in rng.integers(0, 60, size=3))
    chunked = strict_assign(units, threshold=0.35, cannot=cannot, frozen=frozen)
    assert chunked == row_by_row_strict(units, 0.35, cannot, frozen)
    assert len(set(chunked)) < len(units)  # some rows joined others: the case is not trivial


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("neighbours", [1, 3, 32])
def test_agglomeration_over_sums_equals_textbook_average_link_on_pins(seed, neighbours):
    # 1 or 3 candidates per cluster: the lists run dry and are scanned again, and the result is the same.
    units = unit_rows(40, seed=seed)
    groups = Groups(units.copy(), np.ones(len(units), dtype=np.float32), [set() for _ in units])
    expected = naive_average_link(units, 0.3)
    assert partition(agglomerate(groups, threshold=0.3, neighbours=neighbours)) == expected
    assert len(expected) < len(units) - 5  # many merges happened: the case is not trivial


def test_no_two_final_clusters_reach_the_merge_threshold():
    units = unit_rows(120, seed=7)
    params = Params(strict=0.45, merge=0.3, shrinkage=0.5)
    labels = np.array(cluster_rows(units, params))
    means = np.stack([units[labels == c].mean(axis=0) for c in range(labels.max() + 1)])
    between = means @ means.T
    np.fill_diagonal(between, -1)
    assert between.max() < params.merge


def test_a_cannot_link_keeps_two_twins_apart_and_a_must_link_joins_strangers():
    twins = np.array([[1, 0, 0], [0.99, 0.1, 0], [0.98, 0, 0.1]], dtype=np.float32)
    twins /= np.linalg.norm(twins, axis=1, keepdims=True)
    stranger = np.array([[0, 0, 1]], dtype=np.float32)
    units = np.vstack([twins, stranger])
    params = Params(strict=0.5, merge=0.5, shrinkage=0.5)
    assert cluster_rows(units, params) == [0, 0, 0, 1]
    apart = cluster_rows(units, params, different=[(0, 2)])
    assert apart[0] != apart[2]
    assert cluster_rows(units, params, same=[(0, 3)])[3] == cluster_rows(units, params, same=[(0, 3)])[0]


def test_a_frozen_row_stays_alone():
    units = np.tile(np.array([[1, 0]], dtype=np.float32), (3, 1))
    assert cluster_rows(units, Params(0.5, 0.5, 0.5), frozen=frozenset({1})) == [0, 1, 0]


def test_whitening_flattens_the_directions_texts_of_one_need_vary_along():
    rng = np.random.default_rng(3)
    # Two needs told apart along axis 0; wording noise along axis 1, much larger.
    need = np.repeat([[1.0, 0.0], [-1.0, 0.0]], 20, axis=0)
    rows = need * 0.3 + np.c_[np.zeros(40), rng.normal(scale=2.0, size=40)]
    units = Transform(np.zeros(2)).apply(rows)
    groups = [list(range(20)), list(range(20, 40))]
    plain = units @ units.T
    white = Transform(np.zeros(2), fit_whitening(units, groups, shrinkage=0.1)).apply(units)
    whitened = white @ white.T
    same = np.ix_(range(20), range(20))
    other = np.ix_(range(20), range(20, 40))
    gap_plain = plain[same].mean() - plain[other].mean()
    gap_white = whitened[same].mean() - whitened[other].mean()
    assert gap_white > gap_plain + 0.3
