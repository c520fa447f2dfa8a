"""The labelled-set format (fixtures/clustering_labelled.json): groups of texts of one need, singletons,
and curators' pairs ("same need" or not). Read by `fit_clustering` and the quality bench; written by
`export_cluster_decisions`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from carto.clustering.method import Transform, fit_whitening


@dataclass
class LabelledSet:
    """Texts, groups of row indices of one need (size >= 2), and (row, row, same) pairs."""

    texts: list[str] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)
    pairs: list[tuple[int, int, bool]] = field(default_factory=list)

    def add_group(self, texts: Sequence[str]) -> None:
        start = len(self.texts)
        self.texts.extend(texts)
        if len(texts) >= 2:
            self.groups.append(list(range(start, len(self.texts))))

    def add_pair(self, a: str, b: str, same: bool) -> None:
        self.texts.extend((a, b))
        self.pairs.append((len(self.texts) - 2, len(self.texts) - 1, same))

    def same_groups(self) -> list[list[int]]:
        """Groups, then each "same need" pair as a group of two: what the whitening learns from."""
        return [*self.groups, *([a, b] for a, b, same in self.pairs if same)]


def read(path: Path) -> LabelledSet:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = LabelledSet()
    for group in data.get("groups", []):
        out.add_group(group["texts"])
    for single in data.get("singletons", []):
        out.add_group([single["text"]])
    for pair in data.get("pairs", []):
        out.add_pair(*pair["texts"], bool(pair["same"]))
    return out


def fit(raw: np.ndarray, groups: Iterable[Sequence[int]], *, shrinkage: float) -> Transform:
    """Mean of the raw vectors, then the whitening of the centred unit vectors' within-need covariance."""
    mean = raw.mean(axis=0).astype(np.float32)
    units = Transform(mean).apply(raw)
    return Transform(mean, fit_whitening(units, groups, shrinkage=shrinkage))


def document(
    groups: Sequence[Sequence[tuple[str, str, str]]], pairs: Sequence[tuple[str, str, bool]], description: str
) -> dict:
    """A labelled-set document: groups of one need as (text, language, theme) and pairs of texts."""
    return {
        "description": description,
        "groups": [
            {
                "id": f"decided-{n}",
                "texts": [text for text, _, _ in members],
                "langs": [lang for _, lang, _ in members],
                "pin_themes": [theme for _, _, theme in members],
            }
            for n, members in enumerate(groups, 1)
        ],
        "singletons": [],
        "pairs": [{"texts": [a, b], "same": same} for a, b, same in pairs],
    }
