"""Deterministic rebuild of every cluster from the visible pins (`recluster`), replaying curator overrides."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction

from carto import textsim
from carto.clustering import embeddings as e5
from carto.clustering.method import cluster_rows, themed
from carto.models import (
    Cluster,
    ClusterDecision,
    ClusteringFit,
    ClusteringModel,
    ClusterOverride,
    ClusterTerm,
    ClusterTerritory,
    Pin,
    PinCluster,
)
from carto.services.clustering import (
    CANDIDATES,
    LABEL_LENGTH,
    central_text,
    choose,
    key_terms,
    method,
    ranked_themes,
    raw_embeddings,
    seq_bump,
    truncate,
)

# The batch label is the most central of a cluster's first pins (by id): bounded work per cluster.
LABEL_SAMPLE = 50

Progress = Callable[[str], None]


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


def method_groups_e5(
    items: Sequence[tuple[int, str, str]],
    units: np.ndarray,
    *,
    same: Sequence[tuple[int, int]] = (),
    different: Sequence[tuple[int, int]] = (),
    alone: frozenset[int] = frozenset(),
    progress: Progress | None = None,
) -> list[_Group]:
    """The clustering method (carto.clustering.method) on (pin id, text, theme) rows and their
    whitened vectors, with curators' pairs of pin ids; groups numbered by their first pin."""
    where = {pin_id: row for row, (pin_id, _, _) in enumerate(items)}

    def rows(pairs):
        return [(where[a], where[b]) for a, b in pairs if a in where and b in where]

    labels = cluster_rows(
        themed(units, [theme for _, _, theme in items], e5.PARAMS.theme_weight),
        e5.PARAMS,
        same=rows(same),
        different=rows(different),
        frozen=frozenset(where[p] for p in alone if p in where),
        progress=progress,
    )
    groups = [
        _Group(embedding=np.zeros(e5.DIM, dtype=np.float32)) for _ in range(max(labels, default=-1) + 1)
    ]
    for (pin_id, text, theme), vector, label in zip(items, units, labels, strict=True):
        group = groups[label]
        if not group.members:
            group.label = text[:LABEL_LENGTH]
        group.members.append(pin_id)
        group.themes[theme] += 1
        group.embedding += vector
    return groups


def _replay(groups: list[_Group], overrides: Sequence[ClusterOverride]) -> None:
    """Apply curators' merges and renames in id order (e5 took merges as must-links already; splits
    were honoured when grouping)."""
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


# What ClusteringModel.method records for the current e5 method (whitened vectors, average link). Clusters
# stored under another tag were built in another vector space: clusters_outdated() says so.
E5_METHOD_TAG = "e5-avg-w"


def clusters_outdated() -> bool:
    """True when stored clusters were built by an older method than the one running (rebuild them)."""
    if not Cluster.objects.exists():
        return False
    state = ClusteringModel.objects.order_by("id").first()
    wanted = E5_METHOD_TAG if method() == "e5" else "tfidf"
    return state is None or state.method != wanted


def decided_pairs() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Curators' latest word on each pair of pins: (same-need pairs, different-need pairs)."""
    latest = (
        ClusterDecision.objects.order_by("pin_id", "other_pin_id", "-id")
        .distinct("pin_id", "other_pin_id")
        .values_list("pin_id", "other_pin_id", "same")
    )
    same, different = [], []
    for a, b, is_same in latest:
        (same if is_same else different).append((a, b))
    return same, different


def clusters_rebuild(*, progress: Progress | None = None) -> RebuildSummary:
    """Rebuild every cluster from the visible pins in id order (deterministic), replaying overrides.

    Cluster ids are kept where most of a new cluster's pins were (so confirmed responses stay).
    e5: pins without a stored embedding are encoded first, outside the rebuild's transaction; the
    centre is then relearnt from the stored pins (embeddings.corpus_transform) and every centroid recomputed.
    """
    say = progress or (lambda _line: None)
    raws: dict[int, np.ndarray] | None = None
    if method() == "e5":
        pins = list(Pin.objects.visible().order_by("id").values_list("id", "text"))
        say(f"reading / encoding the e5 embeddings of {len(pins)} pins")
        raws = raw_embeddings(pins)
        del pins
    return _rebuild(say, raws)


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
        fit = ClusteringFit.objects.order_by("-id").first()
        transform = e5.corpus_transform(
            e5.transform_from(fit.mean, fit.matrix) if fit else e5.default_transform(),
            units.sum(axis=0, dtype=np.float64),
            len(units),
        )
        for start in range(0, len(units), 50000):
            units[start : start + 50000] = transform.apply(units[start : start + 50000])
        same, different = decided_pairs()
        same += [(o.pin_id, o.other_pin_id) for o in overrides if o.kind == ClusterOverride.Kind.MERGE]
        say(
            f"clustering {len(rows)} pins (e5, fit {fit.pk if fit else 'default'}, {len(same)} must-links,"
            f" {len(different)} cannot-links)"
        )
        model = textsim.TfidfModel()
        groups = method_groups_e5(rows, units, same=same, different=different, alone=alone, progress=say)
        state.embedding_mean, state.method, state.fit = transform.mean.tobytes(), E5_METHOD_TAG, fit
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
        cluster.themes = ranked_themes(cluster.theme_counts)
        changed.append(cluster)
        similarity = {p: 1.0 for p in group.members}
        if units is not None and len(group.members) > 1:
            # Mean cosine of each pin with the others of its cluster (the queue shows the weakest first).
            rows_of = [position[p] for p in group.members]
            mine = units[rows_of]
            similarity = dict(
                zip(
                    group.members, ((mine @ group.embedding - 1.0) / (len(rows_of) - 1)).tolist(), strict=True
                )
            )
        links.extend(
            PinCluster(pin_id=p, cluster=cluster, pinned_by_curator=p in curated, similarity=similarity[p])
            for p in group.members
        )
        if units is None:
            terms.extend(ClusterTerm(term=t[:100], cluster=cluster) for t in key_terms(group.centroid))
    Cluster.objects.filter(pk__in=set(old) - taken).delete()
    fields = ["label", "label_locked", "embedding", "centroid", "theme_counts", "themes", "updated_at"]
    Cluster.objects.bulk_update([c for c in changed if c.pk], fields, batch_size=2000)
    Cluster.objects.bulk_create([c for c in changed if not c.pk], batch_size=2000)
    PinCluster.objects.bulk_create(links, batch_size=5000)
    ClusterTerm.objects.bulk_create(terms, batch_size=5000)
    cluster_counts_refresh_all()
    seq_bump(c.pk for c in changed)
    e5.CACHE.reset()
    say(f"done: {len(rows)} pins, {len(groups)} clusters")
    return RebuildSummary(pins=len(rows), clusters=len(groups), overrides=len(overrides))


def cluster_counts_refresh_all() -> None:
    """Territory rows and counts of every cluster, recomputed in SQL from the pins (one pass each)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM carto_clusterterritory")
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
