"""Seeded generator of realistic pins over the real communes, for the pins benchmarks.

    .venv/bin/python bench/generate_pins.py                 # 100 000 pins in the bench database
    .venv/bin/python bench/generate_pins.py --count 1000000

Points are sampled inside the commune polygons (ST_GeneratePoints) in proportion to population;
texts are French needs and proposals from templates; `--groups` groups of reworded duplicates
(missing accents, SMS spellings, synonyms, typos) are placed within ~200 m of a centre, and get
deterministic client_uuids so that bench/pins_similar.py can measure recall@10 on them.
Everything is one INSERT … SELECT per part (bound parameters), territories set by spatial joins.
The bench database (CARTO_BENCH_DATABASE, default bench_pins) is created, migrated and loaded once.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402

from carto.models import Pin, Theme  # noqa: E402

SEED = 42
GROUP_SIZE = 5

# (theme, kind, wordings): the first is the "canonical" pin, the others say the same thing differently.
GROUPS = [
    ("logement", "need", ["L'ascenseur de l'immeuble est en panne depuis trois semaines",
                          "ascenseur en panne depuis 3 semaines dans notre immeuble",
                          "l ascenseur marche plus depuis des semaines",
                          "Assenseur encore en panne, impossible de monter avec la poussette",
                          "Notre ascenceur est hors service depuis presque un mois"]),
    ("acceder-droits", "need", ["Pas d'endroit pour imprimer mes papiers CAF",
                                "jai pas d imprimante pour les papiers de la caf",
                                "Où imprimer les documents CAF dans le quartier ?",
                                "besoin d'une imprimante pour mon dossier CAF",
                                "Impossible d'imprimer l'attestation CAF près de chez moi"]),
    ("espace-public-proprete", "need", ["Dépôts sauvages d'ordures au coin de la rue",
                                        "des poubelles et encombrants abandonnés sur le trottoir",
                                        "depots sauvages de dechets devant l ecole",
                                        "Ordures entassées depuis une semaine rue voisine",
                                        "Encombrants jamais ramassés au pied de l'immeuble"]),
    ("mobilite", "need", ["Le trottoir est trop étroit pour les fauteuils roulants",
                          "trottoir trop etroit impossible de passer en fauteuil",
                          "Pas accessible en fauteuil roulant : trottoir encombré",
                          "les poussettes et fauteuils ne passent pas sur ce trottoir",
                          "Trottoir beaucoup trop étroit pour les personnes handicapées"]),
    ("equipement-connexion", "need", ["Pas de wifi gratuit à la médiathèque",
                                      "wifi de la mediatheque ne marche jamais",
                                      "Besoin d'une connexion internet gratuite dans le quartier",
                                      "Pas d'accès internet public près d'ici",
                                      "la connexion wifi publique est toujours coupée"]),
    ("se-former", "proposal", ["Je propose des ateliers pour apprendre à utiliser un smartphone",
                               "atelier smartphone pour les seniors, je peux aider",
                               "Je peux apprendre aux anciens à se servir de leur téléphone",
                               "Propose initiation au smartphone le samedi matin",
                               "cours gratuits pour utiliser un telephone portable"]),
    ("espaces-verts", "need", ["Il manque des bancs dans le square",
                               "pas assez de bancs au square pour les personnes agées",
                               "Mettre plus de bancs dans le petit jardin public",
                               "aucun banc dans le square, les anciens ne peuvent pas s asseoir",
                               "Des bancs en plus dans le parc svp"]),
    ("securite", "need", ["Lampadaire éteint, la rue est très sombre la nuit",
                          "eclairage public en panne rue sombre le soir",
                          "La rue n'est plus éclairée depuis une semaine",
                          "lampadaires cassés, on a peur de rentrer le soir",
                          "Plus de lumière dans la rue la nuit, c'est dangereux"]),
    ("emploi", "need", ["Besoin d'aide pour faire mon CV",
                        "qui peut m aider a ecrire un cv",
                        "Aide à la rédaction de CV et lettre de motivation",
                        "je cherche quelqu'un pour corriger mon CV",
                        "Atelier CV pour les jeunes demandeurs d'emploi"]),
    ("sante", "need", ["Pas de médecin généraliste qui prend de nouveaux patients",
                       "impossible de trouver un medecin traitant dans le quartier",
                       "Aucun généraliste disponible près de chez nous",
                       "besoin d un medecin traitant, tous refusent",
                       "Les médecins du quartier ne prennent plus de patients"]),
]  # fmt: skip

_SUBJECTS = {
    "logement": ["La cage d'escalier", "Le hall", "La cave", "Le local vélos", "La porte d'entrée"],
    "espace-public-proprete": ["La place", "Le trottoir", "Le parking", "La rue", "Le passage"],
    "mobilite": ["L'arrêt de bus", "La piste cyclable", "Le passage piéton", "La gare", "Le carrefour"],
    "espaces-verts": ["Le square", "Le jardin partagé", "Le parc", "L'aire de jeux", "La coulée verte"],
    "acceder-droits": ["La mairie annexe", "Le guichet", "La permanence", "Le centre social", "La maison France services"],
    "culture": ["La médiathèque", "Le centre culturel", "La salle des fêtes", "Le conservatoire", "Le cinéma"],
    "jeunesse": ["Le city stade", "La maison de quartier", "Le club ados", "Le terrain de foot", "L'espace jeunes"],
}  # fmt: skip
_PROBLEMS = ["est souvent fermé le samedi", "manque d'entretien", "est mal éclairé le soir",
             "n'est pas accessible aux fauteuils", "est trop bruyant la nuit", "manque de poubelles",
             "a besoin de travaux", "ferme trop tôt", "est inconnu des habitants", "est dégradé"]  # fmt: skip


def background_texts(themes: dict[str, int]) -> tuple[list[int], list[str]]:
    """Aligned (theme id, text) lists of plain, varied pins."""
    theme_ids, texts = [], []
    for slug, subjects in _SUBJECTS.items():
        for subject, problem in itertools.product(subjects, _PROBLEMS):
            theme_ids.append(themes[slug])
            texts.append(f"{subject} {problem}")
    return theme_ids, texts


def group_uuid(seed: int, group: int, member: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"{seed}:grp:{group}:{member}".encode(), usedforsecurity=False).hexdigest())


_PLACES = """
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'arrondissement' AND ST_Intersects(t.geometry, n.geom)
     LIMIT 1),
  (SELECT t.id FROM carto_territory t WHERE t.kind = 'qpv' AND t.geometry IS NOT NULL
     AND ST_Intersects(t.geometry, n.geom) LIMIT 1)
"""
_COLUMNS = """
INSERT INTO carto_pin (client_uuid, request_fingerprint, kind, theme_id, text, language, location, public_location,
  commune_id, ept_id, arrondissement_id, qpv_id, status, status_reason, device_hash, ip_hash, spam_score,
  support_count, created_at, updated_at)
"""
BACKGROUND_SQL = (
    """
WITH alloc AS (
  SELECT c.id, c.parent_id, c.geometry,
         GREATEST(1, round(%(count)s::float8 * COALESCE(c.population, 1)
                           / SUM(COALESCE(c.population, 1)) OVER ()))::int AS n
  FROM carto_territory c WHERE c.kind = 'commune' AND c.geometry IS NOT NULL
), pts AS (
  SELECT a.id AS commune_id, a.parent_id AS ept_id,
         (ST_Dump(ST_GeneratePoints(a.geometry, a.n, %(seed)s))).geom AS geom
  FROM alloc a
), n AS (
  SELECT pts.*, row_number() OVER (ORDER BY commune_id) AS i FROM pts
)"""
    + _COLUMNS
    + """
SELECT md5(%(seed)s::text || ':bg:' || n.i)::uuid, '',
  CASE WHEN n.i %% 3 = 0 THEN 'proposal' ELSE 'need' END,
  (%(theme_ids)s::int[])[1 + (n.i * 7919) %% cardinality(%(theme_ids)s::int[])],
  (%(texts)s::text[])[1 + (n.i * 7919) %% cardinality(%(texts)s::text[])],
  'fr', n.geom, n.geom, n.commune_id, n.ept_id,"""
    + _PLACES
    + """,
  CASE WHEN n.i %% 50 = 0 THEN 'pending' WHEN n.i %% 10 = 0 THEN 'resolved' ELSE 'received' END,
  '', md5('device' || n.i %% 20000), '', 0, (n.i * 31) %% 12,
  now() - make_interval(secs => (n.i * 6151) %% 31536000), now()
FROM n
"""
)
GROUPS_SQL = (
    """
WITH centres AS (
  SELECT g, c.id AS commune_id, c.parent_id AS ept_id,
         ST_PointOnSurface(ST_GeneratePoints(c.geometry, 1, %(seed)s + g)) AS centre
  FROM generate_series(0, %(groups)s - 1) AS g
  CROSS JOIN LATERAL (SELECT * FROM carto_territory WHERE kind = 'commune' AND geometry IS NOT NULL
                      ORDER BY md5(code || g::text) LIMIT 1) AS c
), n AS (
  SELECT c.*, m, ST_Translate(c.centre, (hashtext(g || ':x:' || m) %% 200)::float8,
                                        (hashtext(g || ':y:' || m) %% 200)::float8) AS geom
  FROM centres c CROSS JOIN generate_series(0, %(size)s - 1) AS m
)"""
    + _COLUMNS
    + """
SELECT md5(%(seed)s::text || ':grp:' || n.g || ':' || n.m)::uuid, '',
  (%(kinds)s::text[])[1 + n.g %% cardinality(%(kinds)s::text[])],
  (%(theme_ids)s::int[])[1 + n.g %% cardinality(%(theme_ids)s::int[])],
  (%(texts)s::text[])[1 + (n.g %% cardinality(%(kinds)s::text[])) * %(size)s + n.m],
  'fr', n.geom, n.geom, n.commune_id, n.ept_id,"""
    + _PLACES
    + """,
  'received', '', md5('device-grp' || n.g || n.m), '', 0, 0, now() - make_interval(days => n.m), now()
FROM n
"""
)


def generate(*, count: int, groups: int, seed: int = SEED) -> None:
    """Empty carto_pin and fill it with `count` background pins plus `groups` duplicate groups.

    The aggregates trigger is off during the bulk load (a row-by-row upsert per pin) and the aggregates are
    rebuilt once at the end, in one pass.
    """
    from carto.stats.heatmaps import aggregates_rebuild

    themes = dict(Theme.objects.values_list("slug", "id"))
    theme_ids, texts = background_texts(themes)
    group_texts = [text for _, _, wordings in GROUPS for text in wordings]
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # a bulk load, not a request
        cursor.execute("TRUNCATE carto_pin RESTART IDENTITY CASCADE")
        cursor.execute("ALTER TABLE carto_pin DISABLE TRIGGER carto_pin_aggregates")
        cursor.execute(BACKGROUND_SQL, {"count": count, "seed": seed, "theme_ids": theme_ids, "texts": texts})
        cursor.execute(
            GROUPS_SQL,
            {
                "seed": seed,
                "groups": groups,
                "size": GROUP_SIZE,
                "kinds": [kind for _, kind, _ in GROUPS],
                "theme_ids": [themes[slug] for slug, _, _ in GROUPS],
                "texts": group_texts,
            },
        )
        cursor.execute("ALTER TABLE carto_pin ENABLE TRIGGER carto_pin_aggregates")
        cursor.execute("ANALYZE carto_pin")
    aggregates_rebuild()


def open_bare_cursor():
    """A psycopg cursor on Django's current database, outside Django: the baseline of the benches."""
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    bare = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
        autocommit=True,
    )
    cursor = psycopg.ClientCursor(bare)  # Django binds client-side too
    # As the app's connections (config/settings.py).
    cursor.execute("SET jit = off")
    cursor.execute("SET max_parallel_workers_per_gather = 0")
    return cursor


def use_bench_database() -> None:
    """Point Django at the bench database, creating, migrating and loading it the first time."""
    from django.core.management import call_command
    from django.test.utils import setup_databases

    name = os.environ.get("CARTO_BENCH_DATABASE", "bench_pins")
    connections["default"].settings_dict["TEST"]["NAME"] = name
    # No serialisation of the whole database (a test-runner feature): minutes at 1 M pins.
    setup_databases(verbosity=0, interactive=False, keepdb=True, serialized_aliases=set())
    if not Theme.objects.exists():
        call_command("load_all", verbosity=0)


def ensure_pins(count: int, groups: int) -> None:
    """Generate unless the bench database already holds about `count` pins."""
    have = Pin.objects.count()
    if abs(have - count - groups * GROUP_SIZE) > count * 0.02 + 10:
        started = time.perf_counter()
        generate(count=count, groups=groups)
        print(f"generated {Pin.objects.count()} pins in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    args = parser.parse_args()
    use_bench_database()
    started = time.perf_counter()
    generate(count=args.count, groups=args.groups)
    print(f"{Pin.objects.count()} pins in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
