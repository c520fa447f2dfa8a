"""The clustering method in plain numpy: exact average link, curators' constraints, whitening."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from carto.clustering.method import Groups, Params, Transform, agglomerate, cluster_rows, fit_whitening


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


@pytest.mark.parametrize("seed", range(6))
def test_agglomeration_over_sums_equals_textbook_average_link_on_pins(seed):
    units = unit_rows(40, seed=seed)
    groups = Groups(units.copy(), np.ones(len(units), dtype=np.float32), [set() for _ in units])
    assert partition(agglomerate(groups, threshold=0.3)) == naive_average_link(units, 0.3)


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
