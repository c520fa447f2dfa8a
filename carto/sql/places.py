"""The places search in PostgreSQL: communes, Paris arrondissements, QPV, stations and streets by name, with pg_trgm.

SQL rather than the ORM: one statement ranks the gazetteer's names (PlaceName) by match class and trigram
similarity, keeps a place's best name, then shapes the ten kept rows (a point inside or on it, a WGS84 box)
from the territories, stations and streets themselves. Names and query are compared by carto_search_key
(migration 0014: no accents, lower case, punctuation as spaces). The prefilter (`%` similarity, `<%` word
similarity, LIKE '%…%', an official code) is answered by the GIN trigram index and the code index of PlaceName.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

# carto_search_key(%(q)s) is IMMUTABLE: the planner computes it once per statement, a constant the trigram
# conditions on n.key can use as index conditions (and `length(…) < 3` a constant that keeps one branch of
# the prefilter). The candidates are their own step (MATERIALIZED) so that they are found by a BitmapOr over
# the indexes, not by walking the unique index in DISTINCT ON's order.
#
# Streets are most of the gazetteer (~30,000 names in the Métropole against ~1,000 others) and share their
# words ("rue", "avenue de"): "rue" alone matches half of them. Computing similarities is the costly part, so
# (measured in bench/places.py with 30,000 generated streets; worst query 230 ms → 25 ms, median 3.5 ms):
# - only the best STREET_CANDIDATES streets by match class, then the shortest names (the most similar in
#   their class), are scored; the other places are all scored, as before;
# - typos are found by word similarity (`<%`) alone, not whole-name similarity (`%`): "rue de paris" shares
#   "rue de " with 11,000 names, enough for the index to hand them all to `%`'s recheck (85 ms);
# - two letters find names by a word's start only: a two-letter LIKE '%…%' reads the whole trigram index.
SEARCH_SQL = """
WITH candidates AS MATERIALIZED (
  SELECT n.*,
         CASE WHEN n.code = ANY(%(codes)s::text[]) OR n.key = carto_search_key(%(q)s) THEN 0  -- exact, or its code
              WHEN n.key LIKE carto_search_key(%(q)s) || '%%' THEN 1                  -- the name starts so
              WHEN ' ' || n.key LIKE '%% ' || carto_search_key(%(q)s) || '%%' THEN 2  -- one of its words does
              ELSE 3 END AS tier                                                      -- only similar (a typo)
  FROM carto_placename n
  WHERE n.code = ANY(%(codes)s::text[])
     OR (length(carto_search_key(%(q)s)) < 3
         AND (n.key LIKE carto_search_key(%(q)s) || '%%' OR n.key LIKE '%% ' || carto_search_key(%(q)s) || '%%'))
     OR (length(carto_search_key(%(q)s)) >= 3
         AND (n.key LIKE '%%' || carto_search_key(%(q)s) || '%%' OR carto_search_key(%(q)s) <%% n.key))
),
kept AS (
  SELECT * FROM candidates WHERE kind <> 'street'
  UNION ALL
  (SELECT * FROM candidates WHERE kind = 'street' ORDER BY tier, length(key), key LIMIT %(street_candidates)s)
),
matched AS (
  SELECT DISTINCT ON (n.kind, n.code) n.kind, n.code, n.name AS matched_name, n.is_alias, n.territory_id,
         n.station_id, n.street_id, n.tier,
         greatest(similarity(n.key, carto_search_key(%(q)s)), word_similarity(carto_search_key(%(q)s), n.key))
           AS score
  FROM kept n
  ORDER BY n.kind, n.code, n.tier, n.is_alias, score DESC
),
ranked AS (
  -- Ties of match class and similarity: a place's own name before another's alias; communes and
  -- arrondissements, then QPV, then stations, then streets (a name typed whole finds its commune first).
  SELECT m.*, CASE m.kind WHEN 'qpv' THEN 1 WHEN 'station' THEN 2 WHEN 'street' THEN 3 ELSE 0 END AS kind_rank,
         round(m.score::numeric, 2) AS rounded, coalesce(t.name, s.name, st.name) AS name
  FROM matched m
  LEFT JOIN carto_territory t ON t.id = m.territory_id
  LEFT JOIN carto_station s ON s.id = m.station_id
  LEFT JOIN carto_street st ON st.id = m.street_id
  ORDER BY m.tier, rounded DESC, m.is_alias, kind_rank, name, m.code
  LIMIT %(limit)s
)
SELECT r.kind, r.code, r.name, CASE WHEN r.is_alias THEN r.matched_name END, s.lines,
       (SELECT array_agg(c.name ORDER BY c.name) FROM carto_territory_communes tc
        JOIN carto_territory c ON c.id = tc.to_territory_id WHERE tc.from_territory_id = r.territory_id),
       coalesce(sa.name, sc.name),
       ST_X(g.point), ST_Y(g.point), ST_XMin(g.box), ST_YMin(g.box), ST_XMax(g.box), ST_YMax(g.box)
FROM ranked r
LEFT JOIN carto_territory t ON t.id = r.territory_id
LEFT JOIN carto_station s ON s.id = r.station_id
LEFT JOIN carto_street st ON st.id = r.street_id
LEFT JOIN carto_territory sc ON sc.id = st.commune_id
LEFT JOIN carto_territory sa ON sa.id = st.arrondissement_id
-- A street's point is the point of the street nearest its centroid: on it, and in the middle of a curved one.
CROSS JOIN LATERAL (
  SELECT ST_Transform(coalesce(s.location, ST_ClosestPoint(st.geometry, ST_Centroid(st.geometry)),
                               ST_PointOnSurface(t.geometry)), 4326) AS point,
         Box2D(ST_Transform(ST_Envelope(coalesce(t.geometry, st.geometry)), 4326)) AS box
) g
ORDER BY r.tier, r.rounded DESC, r.is_alias, r.kind_rank, r.name, r.code
"""

# The whole gazetteer again from the territories, the stations and the streets of the Métropole (a station
# under each of its names, its own first: an alias with the same key as its name is dropped). Territory
# names change only through load_all, streets through it or import_streets: both run this last.
REBUILD_SQL = """
INSERT INTO carto_placename (kind, code, name, is_alias, key, territory_id, station_id, street_id)
SELECT t.kind, t.code, t.name, false, carto_search_key(t.name), t.id, NULL::bigint, NULL::bigint
FROM carto_territory t WHERE t.kind IN ('commune', 'arrondissement', 'qpv')
UNION ALL
(SELECT DISTINCT ON (s.id, carto_search_key(n.name)) 'station', s.code, n.name, n.ord > 1,
        carto_search_key(n.name), NULL, s.id, NULL
 FROM carto_station s
 CROSS JOIN LATERAL unnest(array_prepend(s.name::text, s.aliases::text[])) WITH ORDINALITY AS n(name, ord)
 WHERE s.in_metropole
 ORDER BY s.id, carto_search_key(n.name), n.ord)
UNION ALL
SELECT 'street', st.code, st.name, false, carto_search_key(st.name), NULL, NULL, st.id FROM carto_street st
"""


# Streets scored per search (see SEARCH_SQL): a homonym in every commune ("Rue de Paris") still fits.
STREET_CANDIDATES = 100
# For this statement only (SET LOCAL ends with the transaction):
# - the planner prices pg_trgm's operators like `=`: over ~1,000 names it expects a scan to be cheaper than
#   the GIN index, but the scan spends 3.5 ms computing trigrams and the index 0.3 ms (EXPLAIN ANALYZE on the
#   real data; bench/places.py: p50 about 5.5 ms → 2.4 ms per search); a larger gazetteer picks the index;
# - the `<%` threshold (pg_trgm's default 0.6): 0.7 keeps "rue de la X" out of the index's answer for
#   "rue de la republique" (11 of its 20 trigrams: 0.55 < 0.6 only just), while a typo of a letter or two
#   still passes ("rue des pyrennees" 0.89, "montreuill" 0.82).
SEARCH_SETTINGS = "SET LOCAL enable_seqscan = off; SET LOCAL pg_trgm.word_similarity_threshold = 0.7"


@dataclass(frozen=True)
class PlaceRow:
    kind: str
    code: str
    name: str
    alias: str | None  # the other name of a station it was found by
    lines: list[str] | None  # a station's line labels
    communes: list[str] | None  # a QPV's commune names
    area: str | None  # a street's commune, or its arrondissement in Paris
    lon: float
    lat: float
    bbox: tuple[float, float, float, float] | None  # WGS84 box of a territory or a street


def search_places(*, text: str, codes: list[str], limit: int) -> list[PlaceRow]:
    """Up to `limit` places whose name matches `text`, or whose official code is in `codes`, best first."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SEARCH_SETTINGS)  # one round trip: no parameters, so one simple query
        params = {"q": text, "codes": codes, "limit": limit, "street_candidates": STREET_CANDIDATES}
        cursor.execute(SEARCH_SQL, params)
        rows = cursor.fetchall()
    return [
        PlaceRow(
            kind, code, name, alias, lines, communes, area, lon, lat, None if x0 is None else (x0, y0, x1, y1)
        )
        for kind, code, name, alias, lines, communes, area, lon, lat, x0, y0, x1, y1 in rows
    ]


def rebuild_place_names() -> int:
    """Rebuild the gazetteer (PlaceName) from the territories and stations; returns its number of names.

    The caller holds the transaction: readers see the old names or the new ones, never none.
    """
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM carto_placename")
        cursor.execute(REBUILD_SQL)
        count = cursor.rowcount
        cursor.execute("ANALYZE carto_placename")  # the planner's statistics follow the new rows at once
        return count
