"""Similar pins nearby, shown before posting so that residents support an existing pin instead.

"Similar" means twins: with e5 (production), nearby pins ranked by the clustering's own similarity
(carto.clustering.method.twin_score on whitened vectors) and kept only from TWIN, so a resident is
offered nothing rather than someone else's need; plus the cluster the text would join, for "elsewhere
in the Métropole: N people in M communes". The TF-IDF fallback keeps the trigram query below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.gis.db.models import PointField
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, FloatField, Func, QuerySet, TextField, Value, When

from carto.clustering import embeddings as e5
from carto.clustering.method import twin_score
from carto.geo import API_SRID, STORAGE_SRID, in_idf, to_storage
from carto.models import Cluster, Pin
from carto.services.clustering import method

WINDOW_M = 1500
LIMIT = 5
# Nearest visible pins scored per request in each reach (all themes; the picked theme): bounds the work
# in dense quartiers at 1 M pins (≤ 800 stored vectors, ~0.6 MB, whitened in one matrix product).
CANDIDATES = 400
# Distances are shown in 100 m steps and computed from public (already blurred) locations, so that
# repeated queries from chosen points cannot triangulate where a resident really stood.
DISTANCE_STEP_M = 100

TEXT_THRESHOLD = 0.2
TEXT_WEIGHT = 0.6
THEME_WEIGHT = 0.25
DISTANCE_WEIGHT = 0.15
# Twins nearer first: the order takes DISTANCE_HINT x distance / WINDOW_M off the twin score (the trigram
# search's weight of distance against text, 0.15 / 0.6). The floor (TWIN) stays on the twin score alone:
# what counts as a twin does not change, only which come first. A broken lift 1.4 km away is another
# building's. bench/pins_similar.py, recall at 100 k / 1 M: 0.480 / 0.485 without, 0.509 / 0.500 with
# (0.492 / 0.489 at 0.1; the three values tried, none other).
DISTANCE_HINT = DISTANCE_WEIGHT / TEXT_WEIGHT


@dataclass(frozen=True)
class SimilarPin:
    id: int
    kind: str
    theme: str
    text: str
    status: str
    support_count: int
    score: float
    distance_m: int


class Fold(Func):
    """carto_fold(text): unaccent(lower(text)), immutable so that it is indexed (migration 0004)."""

    function = "carto_fold"
    output_field = TextField()


class WordSimilar(Func):
    """`a %> b`: pg_trgm word_similarity(b, a) above pg_trgm.word_similarity_threshold (GIN-indexable)."""

    template = "%(expressions)s"
    arg_joiner = " %%> "
    output_field = BooleanField()


@dataclass(frozen=True)
class Similar:
    pins: list[SimilarPin]
    # The cluster the text would join (mean cosine >= PARAMS.merge), if it holds 2 pins or more.
    cluster: Cluster | None


def pins_similar(*, location: Point, theme_slug: str = "", text: str = "") -> Similar:
    """The ≤ LIMIT visible pins within WINDOW_M of `location` that say the same thing, best first."""
    if (location.srid or API_SRID) == API_SRID and not in_idf(location.x, location.y):
        # No pin lies outside Île-de-France (pin_location_in_mgp_box), and PROJ refuses to put points
        # far from France into Lambert-93 (found by the schemathesis run: a 500 before this test).
        return Similar([], None)
    if method() == "e5":
        return _twins(location=location, theme_slug=theme_slug, text=(text or "").strip()[:1000])
    return Similar(_trigram_similar(location=location, theme_slug=theme_slug, text=text), None)


# Two reaches, each nearest first by a GiST index walked in distance order (KNN, LIMIT): the CANDIDATES
# nearest visible pins, and the CANDIDATES nearest of the theme the resident picked (index
# pin_visible_theme_public_location, migration 0016). The theme widens the reach, it never excludes:
# at 1 M pins the 400 nearest cover ~200 m in central Paris and missed 111 of the 800 reworded
# duplicates of bench/pins_similar.py; the union misses none. No `id` tie-break in ORDER BY (it turns
# the KNN walk into a sort of the whole window: 43 ms instead of 1.3 ms at 1 M): WITH TIES keeps the
# cut deterministic. Only pins with a stored embedding are candidates: the write path stores one; a pin
# it has not reached yet is not judged rather than encoded here (~20-45 ms of CPU per text).
CANDIDATES_SQL = """
WITH near AS (
  (SELECT id, kind, theme_id, text, status, support_count, public_location <-> %(point)s::geometry AS distance
   FROM carto_pin WHERE status = ANY(%(visible)s)
   ORDER BY public_location <-> %(point)s::geometry FETCH FIRST (%(limit)s) ROWS WITH TIES)
  UNION
  (SELECT id, kind, theme_id, text, status, support_count, public_location <-> %(point)s::geometry
   FROM carto_pin WHERE status = ANY(%(visible)s)
     AND theme_id = (SELECT id FROM carto_theme WHERE slug = %(theme)s)
   ORDER BY public_location <-> %(point)s::geometry FETCH FIRST (%(limit)s) ROWS WITH TIES))
SELECT p.id, p.kind, t.slug, p.text, p.status, p.support_count, p.distance, e.vector, pc.cluster_id
FROM near p
JOIN carto_theme t ON t.id = p.theme_id
JOIN carto_pinembedding e ON e.pin_id = p.id
LEFT JOIN carto_pincluster pc ON pc.pin_id = p.id
WHERE p.distance <= %(window)s
"""


def candidate_params(*, point: Point, theme_slug: str) -> dict:
    """CANDIDATES_SQL's parameters (`point` in STORAGE_SRID), shared with bench/pins_similar.py."""
    return {
        "point": point.ewkt,
        "visible": list(Pin.VISIBLE_STATUSES),
        "theme": theme_slug,
        "window": WINDOW_M,
        "limit": CANDIDATES,
    }


def _twins(*, location: Point, theme_slug: str, text: str) -> Similar:
    if not text:
        return Similar([], None)  # nothing said yet: no twin can be told from a neighbour
    raw = e5.encode_raw([text])[0]
    cache = e5.CACHE
    cache.sync()
    vector = cache.transform.apply(raw)[0]
    with connection.cursor() as cursor:
        cursor.execute(CANDIDATES_SQL, candidate_params(point=to_storage(location), theme_slug=theme_slug))
        rows = cursor.fetchall()
    if not rows:
        pins: list[SimilarPin] = []
    else:
        own = cache.transform.apply(e5.unpack_many([r[7] for r in rows])) @ vector
        means = cache.matrix.rows
        where = cache.matrix.where
        group = np.array(
            [float(means[where[r[8]]] @ vector) if r[8] in where else own[i] for i, r in enumerate(rows)]
        )
        twins = twin_score(own, group)
        floor = max(e5.TWIN, e5.TWIN_RATIO * float(twins.max()))
        scores = twins - DISTANCE_HINT * np.array([r[6] for r in rows]) / WINDOW_M
        order = sorted(
            (i for i in range(len(rows)) if twins[i] >= floor),
            key=lambda i: (-scores[i], rows[i][6], -rows[i][0]),
        )  # ties (the same text at one public point): the newest
        pins = [
            SimilarPin(
                id=rows[i][0],
                kind=rows[i][1],
                theme=rows[i][2],
                text=rows[i][3],
                status=rows[i][4],
                support_count=rows[i][5],
                score=round(float(scores[i]), 3),
                distance_m=int(round(rows[i][6] / DISTANCE_STEP_M) * DISTANCE_STEP_M),
            )
            for i in order[:LIMIT]
        ]
    best = cache.matrix.best(vector, theme_slug or None)  # the cluster this pin would join
    cluster = Cluster.objects.filter(pk=best[0], pin_count__gte=2).first() if best else None
    return Similar(pins, cluster)


def _trigram_similar(*, location: Point, theme_slug: str = "", text: str = "") -> list[SimilarPin]:
    with transaction.atomic(), connection.cursor() as cursor:
        # Only for this transaction: the prefilter keeps pins whose best-matching stretch shares
        # at least this much with the query (pg_trgm's default 0.6 misses reworded duplicates).
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(TEXT_THRESHOLD)]
        )
        rows = list(similar_rows(location=location, theme_slug=theme_slug, text=text))
    return [
        SimilarPin(
            id=row["id"],
            kind=row["kind"],
            theme=row["theme__slug"],
            text=row["text"],
            status=row["status"],
            support_count=row["support_count"],
            score=round(row["score"], 3),
            distance_m=int(round(row["distance"] / DISTANCE_STEP_M) * DISTANCE_STEP_M),
        )
        for row in rows
    ]


def similar_rows(*, location: Point, theme_slug: str = "", text: str = "") -> QuerySet:
    """The query behind pins_similar (one SELECT), kept apart so that bench/pins_similar.py can time it bare.

    Text similarity is pg_trgm `word_similarity` on unaccented, lower-cased text rather than French
    full-text search: pins are short and typed on phones ("jai pas dimprimante", "assenseur en
    panne"), where stemming and stop-word lists miss typos and glued words but trigrams still match,
    and word_similarity scores a short query against the best-matching stretch of a longer pin.
    The spatial window comes first: ST_DWithin on the GiST index of public_location keeps the rows
    to score to the few thousand pins around the point even at 1 M pins, so no text index is needed.
    """
    point = to_storage(location)
    query_text = (text or "").strip()[:300]
    pins = Pin.objects.visible().near(point, meters=WINDOW_M)
    if query_text:
        # `%>` prefilter on the GIN index pin_text_fold_trgm (threshold set in pins_similar): at
        # 1 M pins the 1500 m window alone holds ~20 000 rows to score, the prefilter a few dozen.
        pins = pins.filter(WordSimilar(Fold("text"), Fold(Value(query_text))))
    pins = (
        pins.annotate(
            distance=Func(
                "public_location",
                Value(point, output_field=PointField(srid=STORAGE_SRID)),
                function="ST_Distance",
                output_field=FloatField(),
            ),
            text_similarity=(
                TrigramWordSimilarity(Fold(Value(query_text)), Fold("text"))
                if query_text
                else Value(0.0, output_field=FloatField())
            ),
            theme_match=Case(
                When(theme__slug=theme_slug, then=Value(1.0)), default=Value(0.0), output_field=FloatField()
            ),
        )
        .annotate(
            score=TEXT_WEIGHT * F("text_similarity")
            + THEME_WEIGHT * F("theme_match")
            + DISTANCE_WEIGHT * (Value(1.0) - F("distance") / Value(float(WINDOW_M)))
        )
        .order_by("-score", "-id")
        .values("id", "kind", "theme__slug", "text", "status", "support_count", "score", "distance")[:LIMIT]
    )
    return pins
