"""Similar pins nearby, shown before posting so that residents support an existing pin instead."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models import PointField
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, FloatField, Func, QuerySet, TextField, Value, When

from carto.geo import API_SRID, STORAGE_SRID, in_idf, to_storage
from carto.models import Pin

WINDOW_M = 1500
LIMIT = 10
# Distances are shown in 100 m steps and computed from public (already blurred) locations, so that
# repeated queries from chosen points cannot triangulate where a resident really stood.
DISTANCE_STEP_M = 100

TEXT_THRESHOLD = 0.2
TEXT_WEIGHT = 0.6
THEME_WEIGHT = 0.25
DISTANCE_WEIGHT = 0.15


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


def pins_similar(*, location: Point, theme_slug: str = "", text: str = "") -> list[SimilarPin]:
    """The ≤ 10 visible pins within WINDOW_M of `location`, best first (text, same theme, closeness)."""
    if (location.srid or API_SRID) == API_SRID and not in_idf(location.x, location.y):
        # No pin lies outside Île-de-France (pin_location_in_mgp_box), and PROJ refuses to put points
        # far from France into Lambert-93 (found by the schemathesis run: a 500 before this test).
        return []
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
