"""The "where" step's reads on the real reference data: the places search, what is near, orientation tiles.

    .venv/bin/python bench/places.py

One run, ratios against baselines run beside them, interleaved:
- GET /api/places/?q= (Django test client) vs the same statements and parameters through a bare psycopg
  connection, over queries residents type (names, arrondissements written four ways, typos, two letters);
  and that statement left to the planner (a scan of the names) vs with its hint (the trigram index);
- GET /api/places/near/ (placement, territory names and the nearest station: three queries) vs the three
  statements Django sends, bare;
- GET /api/tiles/orientation/ z10–z15 over the Métropole (server-side cache off) vs the bare ST_AsMVT;
- the places search again with a generated gazetteer of ~30,000 streets (what a basemap's import gives the
  Métropole), over street queries and the ones above, vs the bare statement; the streets are removed after.
Database: CARTO_BENCH_DATABASE (default bench_places): reference data only, loaded by load_all.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_places")

from bench.generate_pins import open_bare_cursor, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

SEED = 7
ROUNDS = 30
QUERIES = [
    "Paris 20e", "20e", "75020", "Paris 20", "Belleville", "Montreuil", "Chateau rouge", "Montreuill",
    "Goutte d'Or", "Grand Belleville", "Les Amandiers", "gare du nord", "Saint-Denis", "creteil", "pa",
    "Bondy", "villejuif", "La Muette", "Aubervilliers", "porte de la chapelle",
]  # fmt: skip
# Points residents stand at: Belleville, la Goutte d'Or, Montreuil, Bondy, the Bois de Vincennes.
POINTS = [(2.3775, 48.8715), (2.3545, 48.8860), (2.4410, 48.8620), (2.4830, 48.9020), (2.4575, 48.8335)]
BOX = (2.25, 48.78, 2.55, 48.95)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def row(name: str, ours: list[float], bare: list[float]) -> tuple[float, float]:
    p50, base50 = statistics.median(ours), statistics.median(bare)
    print(
        f"{name:<52} p50 {p50:6.2f} ms  p95 {pct(ours, 0.95):6.2f} ms  bare p50 {base50:6.2f} ms  {p50 / base50:5.2f}x"
    )
    return p50, base50


def search_params(q: str) -> dict:
    """The search statement's parameters for what a resident typed, as carto.services.places binds them."""
    from carto.services.places import MAX_RESULTS, expand_abbreviations, official_codes
    from carto.sql.places import STREET_CANDIDATES

    text = expand_abbreviations(q)
    return {
        "q": text,
        "codes": official_codes(q),
        "limit": MAX_RESULTS,
        "street_candidates": STREET_CANDIDATES,
    }


def hinted(bare, params: dict) -> None:
    """What carto.sql.places.search_places sends: its settings and the statement, in one transaction."""
    from carto.sql.places import SEARCH_SETTINGS, SEARCH_SQL

    bare.execute("BEGIN")
    bare.execute(SEARCH_SETTINGS)
    bare.execute(SEARCH_SQL, params)
    bare.fetchall()
    bare.execute("COMMIT")


def bench_search(client, bare) -> float:
    from carto.sql.places import SEARCH_SQL

    ours, base, unhinted = [], [], []
    for _ in range(ROUNDS):
        for q in QUERIES:
            ours.append(timed(lambda q=q: client.get("/api/places/", {"q": q})))
            params = search_params(q)
            base.append(timed(lambda p=params: hinted(bare, p)))
            unhinted.append(timed(lambda p=params: (bare.execute(SEARCH_SQL, p), bare.fetchall())))
    p50, base50 = row("GET /api/places/?q= (endpoint / bare SQL)", ours, base)
    row("  the bare SQL without its settings / with them", unhinted, base)
    # No target set for this endpoint yet: the bare side is ~2.3 ms, so Django's fixed ~1.5–2 ms per request
    # is most of the gap (as for the other small, fast queries of the README's bench table).
    emit("places", "search p50 (endpoint / bare SQL)", p50, base50, p50 / base50, "", None)
    return base50


# Street names as the Métropole writes them: a type, then a person, a thing or a place (communes and
# stations of the reference data are added), so homonyms across communes come naturally ("Rue de Paris").
STREET_TYPES = ["Rue"] * 12 + ["Avenue"] * 3 + ["Allée", "Impasse", "Boulevard", "Place", "Villa", "Passage",
                                                 "Chemin", "Sentier", "Square", "Quai", "Cité", "Route"]  # fmt: skip
STREET_NAMES = [
    "Victor Hugo", "Jean Jaurès", "Gambetta", "Voltaire", "Pasteur", "Jean Moulin", "du Général de Gaulle",
    "du Maréchal Foch", "Gabriel Péri", "Paul Vaillant-Couturier", "Danielle Casanova", "Marcel Cachin",
    "Pierre Brossolette", "Aristide Briand", "Jules Ferry", "Louise Michel", "Anatole France", "Émile Zola",
    "Carnot", "Jean-Baptiste Clément", "Salvador Allende", "Henri Barbusse", "Paul Éluard", "Louis Aragon",
    "Pablo Picasso", "Youri Gagarine", "Kléber", "Jean Lolive", "Lamartine", "Molière", "Racine", "Condorcet",
    "Parmentier", "Denfert-Rochereau", "Édouard Vaillant", "Maximilien Robespierre", "Ambroise Croizat",
    "Karl Marx", "Rosa Parks", "Nelson Mandela", "Martin Luther King", "Simone Veil", "Olympe de Gouges",
    "Georges Brassens", "Édith Piaf", "Jean Rostand", "Marie Curie", "Albert Einstein", "Louis Blanc",
    "Raspail", "Diderot", "Rousseau", "Saint-Just", "de la République", "de la Mairie", "de la Gare",
    "de l'Église", "du Marché", "des Écoles", "de la Paix", "de la Liberté", "du 8 Mai 1945",
    "du 11 Novembre 1918", "des Lilas", "des Roses", "des Acacias", "des Tilleuls", "des Peupliers",
    "du Moulin", "des Pyrénées", "du Château", "des Vignes", "du Stade", "de la Fontaine", "des Jardins",
    "de la Croix", "du Parc", "des Fleurs", "de la Poste", "du Progrès", "de l'Avenir", "des Prés",
    "du Bois", "de la Source", "des Glycines", "des Bleuets", "des Coquelicots", "des Platanes", "du Canal",
]  # fmt: skip
STREET_COUNT = 30_000
STREET_QUERIES = [
    "rue des pyrenees", "r. des pyrénées", "pyrenees", "rue des pyrennees", "rue de paris", "rue",
    "avenue jean jaures", "av jean jaures", "bd de belleville", "allee des", "rue de la republique",
    "rue victor hugo", "rue victr hugo", "place de la mairie", "impasse des lilas", "ru",
    "avenue du general de gaulle", "av. du gal de gaulle", "gabriel peri", "sentier des vignes",
]  # fmt: skip

# The generated streets: a short line near a point of their commune (of their arrondissement in Paris);
# the geometry only shapes the answer (a point, a box), the search reads the names.
_STREETS_SQL = """
WITH places AS (
  SELECT t.id, t.code, ST_PointOnSurface(t.geometry) AS at FROM carto_territory t
  WHERE t.kind IN ('commune', 'arrondissement') AND t.code <> '75056'
), new AS (
  SELECT * FROM unnest(%(names)s::text[], %(places)s::bigint[], %(dx)s::float8[], %(dy)s::float8[])
    AS n(name, place_id, dx, dy)
)
INSERT INTO carto_street (code, name, commune_id, arrondissement_id, geometry)
SELECT p.code || '-' || left(md5(carto_search_key(n.name)), 8), n.name,
       CASE WHEN p.code LIKE '751%%' THEN (SELECT id FROM carto_territory WHERE code = '75056') ELSE p.id END,
       CASE WHEN p.code LIKE '751%%' THEN p.id END,
       ST_Multi(ST_MakeLine(ST_Translate(p.at, n.dx, n.dy), ST_Translate(p.at, n.dx + 150, n.dy + 40)))
FROM new n JOIN places p ON p.id = n.place_id
"""


def streets_generate() -> int:
    """Insert ~STREET_COUNT streets (seeded) and rebuild the gazetteer; returns the number of street names."""
    from django.db import connection, transaction

    from carto.models import PlaceName, Station, Territory
    from carto.services.places import place_names_rebuild
    from carto.textsim import normalise

    rng = random.Random(SEED)
    places = list(
        Territory.objects.filter(kind__in=["commune", "arrondissement"])
        .exclude(code="75056")
        .values_list("id", "name")
    )
    communes = Territory.objects.filter(kind="commune").values_list("name", flat=True)
    targets = [*STREET_NAMES, *(f"de {name}" for name in communes),
               *(f"de {name}" for name in Station.objects.filter(in_metropole=True).values_list("name", flat=True))]  # fmt: skip
    elided = {"de A": "d'A", "de É": "d'É", "de I": "d'I", "de O": "d'O"}
    rows: dict[tuple[int, str], tuple[str, float, float]] = {}  # (place, search key): one street, as imported
    while len(rows) < STREET_COUNT:
        place_id, _ = rng.choice(places)
        name = f"{rng.choice(STREET_TYPES)} {rng.choice(targets)}"
        for de, elision in elided.items():
            name = name.replace(de, elision)
        rows[(place_id, normalise(name))] = (name, rng.uniform(-1500, 1500), rng.uniform(-1500, 1500))
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"names": [r[0] for r in rows.values()], "places": [p for p, _ in rows],
                  "dx": [r[1] for r in rows.values()], "dy": [r[2] for r in rows.values()]}  # fmt: skip
        cursor.execute(_STREETS_SQL, params)
        place_names_rebuild()
    return PlaceName.objects.filter(kind="street").count()


def streets_remove() -> None:
    from django.db import transaction

    from carto.models import PlaceName, Street
    from carto.services.places import place_names_rebuild

    with transaction.atomic():
        PlaceName.objects.filter(kind="street").delete()
        Street.objects.all().delete()
        place_names_rebuild()


def bench_search_streets(client, bare, without_streets: float) -> None:
    started = time.perf_counter()
    count = streets_generate()
    print(f"{count} street names generated in {time.perf_counter() - started:.1f} s")
    try:
        client.get("/api/places/", {"q": "warm"})
        for label, queries in (("street queries", STREET_QUERIES), ("the other queries", QUERIES)):
            ours, base, slowest = [], [], {}
            for _ in range(ROUNDS):
                for q in queries:
                    ours.append(timed(lambda q=q: client.get("/api/places/", {"q": q})))
                    params = search_params(q)
                    base.append(timed(lambda p=params: hinted(bare, p)))
                    slowest[q] = max(slowest.get(q, 0), base[-1])
            p50, base50 = row(f"  30k streets, {label} (endpoint / bare SQL)", ours, base)
            print(
                f"{'':<52} bare with the streets / without them (first case): {base50 / without_streets:.2f}x"
            )
            worst = sorted(slowest.items(), key=lambda kv: -kv[1])[:3]
            print(f"{'':<52} slowest bare: " + ", ".join(f"{q!r} {ms:.1f} ms" for q, ms in worst))
            emit("places", f"search with 30k streets, {label} p50 (endpoint / bare)", p50, base50, p50 / base50, "", None)  # fmt: skip
    finally:
        streets_remove()


def bench_near(client, bare) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lon, lat = POINTS[0]
    client.get("/api/places/near/", {"lat": lat, "lon": lon})  # GeoDjango reads spatial_ref_sys once
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/places/near/", {"lat": lat, "lon": lon})
    statements = [q["sql"] for q in captured.captured_queries]
    ours, base = [], []
    for _ in range(ROUNDS):
        for lon, lat in POINTS:
            ours.append(
                timed(lambda lon=lon, lat=lat: client.get("/api/places/near/", {"lat": lat, "lon": lon}))
            )
        for _point in POINTS:  # the first point's statements again: same plans, same work
            base.append(timed(lambda: [(bare.execute(s), bare.fetchall()) for s in statements]))
    p50, base50 = row(f"GET /api/places/near/ (endpoint / its {len(statements)} statements bare)", ours, base)
    # No target: three small statements, so Django's fixed cost per request (~1.5 ms) is most of it.
    emit("places", "near p50 (endpoint / bare SQL)", p50, base50, p50 / base50, "", None)


def bench_tiles(client, bare) -> None:
    from django.test import override_settings

    from carto.sql.orientation_tiles import ORIENTATION_SQL, orientation_params

    rng = random.Random(SEED)
    ours, base, sizes = [], [], []
    with override_settings(CARTO_TILE_CACHE_SECONDS=0):
        for z in range(10, 16):
            for _ in range(12):
                lon, lat = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
                z_, x, y = tile_of(lon, lat, z)
                response = None

                def fetch(z_=z_, x=x, y=y):
                    nonlocal response
                    response = client.get(f"/api/tiles/orientation/{z_}/{x}/{y}.mvt")

                ours.append(timed(fetch))
                sizes.append(len(response.content))
                params = orientation_params(z_, x, y)
                base.append(timed(lambda p=params: (bare.execute(ORIENTATION_SQL, p), bare.fetchall())))
    p50, base50 = row("orientation tiles z10-z15 (endpoint / bare ST_AsMVT)", ours, base)
    print(
        f"{'':<52} largest tile {max(sizes) / 1024:.0f} KB, median {statistics.median(sizes) / 1024:.1f} KB"
    )
    emit(
        "places",
        "orientation tiles p50 (endpoint / bare)",
        p50,
        base50,
        p50 / base50,
        "<= 1.5x",
        p50 / base50 <= 1.5,
    )


def main() -> None:
    use_bench_database()
    from django.test import Client

    client = Client()
    bare = open_bare_cursor()
    client.get("/api/places/", {"q": "warm"})  # first connection, PROJ and pg_trgm loaded outside the timings
    without_streets = bench_search(client, bare)
    bench_near(client, bare)
    bench_tiles(client, bare)
    bench_search_streets(client, bare, without_streets)


if __name__ == "__main__":
    main()
