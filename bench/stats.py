"""Statistics endpoints against the bare SQL that answers the same question, on the bench pins.

    .venv/bin/python bench/stats.py                 # the bench database, 100 000 pins
    .venv/bin/python bench/stats.py --samples 10    # fewer timed rounds

Issue targets: comparisons endpoint p50 <= 1.2x the bare `GROUP BY`; hexbins endpoint p50 <= 1.3x its SQL run
bare on the stored hexagons.

Comparisons (carto/stats/comparisons.py): GET /api/stats/territories/?level=commune (without and with a
period, which adds the trend against the previous period of the same length), ?level=ept with a period, and
GET /api/stats/compare/ of three communes and an arrondissement, through Django's test Client (in-process,
as the other benches). The baseline is one bare GROUP BY per request through a plain psycopg cursor:
visible pins joined to their territory (code and population, for the rate per 1,000), grouped per territory
and theme, the previous period counted in the same scan with FILTER. Every count the endpoint does not
suppress ("<5") must equal the bare one, or the bench exits non-zero. Each request is timed `--samples`
times on both sides, interleaved; the target must hold for each, so the emitted row is the request with the
highest p50 ratio.

The endpoints keep their answers per map version (carto.stats.map_version.cached_by_map_version): a request
repeated with no write in between, as here, is a cache hit after the first. Each request is therefore also
timed with the cache off (CARTO_STATS_CACHE_SECONDS=0, "cold"): printed for information, beside the targets.

Hexbins (carto/stats/heatmaps.py): GET /api/stats/hexbins/?zoom=Z at zooms 8-12, for the whole Métropole (no
bbox) and for screen-sized boxes (1280 x 800 px, bench/map_clusters.py's screen_box) centred on sampled pins,
one box per round in turn, against the statement that answers them from the per-theme hexagons
(heatmaps.hexbins_query(totals=False): _HEXBINS_SQL and its parameters) run through the plain cursor; the
endpoint reads the hexagon totals instead (one row per hexagon), whose statement is timed bare too. The bare
GeoJSON text must equal the endpoint's body, byte for byte. As above, the emitted row is the request (zoom,
with or without a box) with the highest p50 ratio.

One function per measurement, each returning its Rows; main() prints them and emits the targeted ones.
Database: CARTO_BENCH_DATABASE (default bench_pins), loaded by bench/generate_pins.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_pins")

from bench.generate_pins import ensure_pins, open_bare_cursor, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

# Bondy, Sevran, Villeneuve-la-Garenne (communes) and Paris 20e (an arrondissement): two levels in one request.
COMPARED = ["93010", "93071", "75120", "92078"]
PERIOD_DAYS = 91
SEED = 7
SCREEN_BOXES = 8  # screen-sized boxes per zoom, centred on sampled visible pins

# Visible pins per territory of one level and theme, grouped on carto_pin alone and then joined to the
# territory for its code and population (the rate per 1,000): the fastest bare form found (joining before
# grouping took ~1.7x longer). `{column}` is the Pin column placing a pin at that level (LEVEL_FIELDS),
# composed as an identifier; the values are bound.
_BARE = """
SELECT t.code, t.population, g.theme_id, g.pins, g.supports, g.previous FROM (
  SELECT p.{column} AS territory_id, p.theme_id, count(*) AS pins, sum(p.support_count) AS supports, 0 AS previous
  FROM carto_pin p
  WHERE p.status = ANY(%(statuses)s::text[])
    AND (%(codes)s::text[] IS NULL
         OR p.{column} = ANY(ARRAY(SELECT id FROM carto_territory WHERE code = ANY(%(codes)s::text[]))))
  GROUP BY 1, 2
) g JOIN carto_territory t ON t.id = g.territory_id
"""
# The same over [since, until), and the previous period [previous, since) counted in the same scan.
_BARE_PERIOD = """
SELECT t.code, t.population, g.theme_id, g.pins, g.supports, g.previous FROM (
  SELECT p.{column} AS territory_id, p.theme_id,
         count(*) FILTER (WHERE p.created_at >= %(since)s) AS pins,
         sum(p.support_count) FILTER (WHERE p.created_at >= %(since)s) AS supports,
         count(*) FILTER (WHERE p.created_at < %(since)s) AS previous
  FROM carto_pin p
  WHERE p.status = ANY(%(statuses)s::text[]) AND p.created_at >= %(previous)s AND p.created_at < %(until)s
    AND (%(codes)s::text[] IS NULL
         OR p.{column} = ANY(ARRAY(SELECT id FROM carto_territory WHERE code = ANY(%(codes)s::text[]))))
  GROUP BY 1, 2
) g JOIN carto_territory t ON t.id = g.territory_id
"""


@dataclass
class Row:
    """One line of the table: a measure, our times and the baseline's (ms); emitted when it has a target."""

    measure: str
    ours: list[float]
    baseline: list[float]
    target: float | None = None
    mismatches: list[str] = field(default_factory=list)
    note: str = ""
    cold: list[float] = field(default_factory=list)  # the endpoint with its cache off
    own: list[float] = field(default_factory=list)  # the endpoint's own statement bare, when not the baseline

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.baseline)

    @property
    def cold_ratio(self) -> float | None:
        return statistics.median(self.cold) / statistics.median(self.baseline) if self.cold else None


def stats_cache(*, on: bool) -> None:
    """Turn the statistics cache on (the default) or off; a plain attribute, read on each request
    (override_settings would send setting_changed to every receiver around each timed request)."""
    from django.conf import settings

    settings.CARTO_STATS_CACHE_SECONDS = 300 if on else 0


def bare_statement(levels: list[str], *, period: bool) -> sql.Composed:
    """The bare GROUP BY over the territories of `levels` (UNION ALL when a comparison mixes levels)."""
    from carto.stats.comparisons import LEVEL_FIELDS

    template = sql.SQL(_BARE_PERIOD if period else _BARE)
    return sql.SQL(" UNION ALL ").join(
        template.format(column=sql.Identifier(LEVEL_FIELDS[level])) for level in levels
    )


def check(body: dict, rows: list[tuple], slugs: dict[int, str], period: bool) -> list[str]:
    """Differences between the endpoint's counts and the bare rows', "<5" standing for 1 to 4."""
    from carto.stats.comparisons import suppress_small

    expected: dict[str, dict] = defaultdict(lambda: {"pins": 0, "supports": 0, "previous": 0, "by_theme": {}})
    for code, _population, theme_id, pins, supports, previous in rows:
        e = expected[code]
        e["pins"] += pins
        e["supports"] += supports or 0
        e["previous"] += previous
        if pins:
            e["by_theme"][slugs[theme_id]] = pins
    problems = []
    for territory in body["territories"]:
        code, e = territory["code"], expected[territory["code"]]
        got = {
            "pins": territory["pins"],
            "supports": territory["supports"],
            "by_theme": {slug: n for slug, n in territory["by_theme"].items() if n != 0},
        }
        want = {
            "pins": suppress_small(e["pins"]),
            "supports": suppress_small(e["supports"]),
            "by_theme": {slug: suppress_small(n) for slug, n in e["by_theme"].items()},
        }
        if period:
            got["previous"] = territory["trend"]["previous"]
            want["previous"] = suppress_small(e["previous"])
        problems += [
            f"{code} {key}: endpoint {got[key]}, bare {want[key]}" for key in got if got[key] != want[key]
        ]
    return problems


def comparisons(client, cursor, samples: int) -> list[Row]:
    """The comparison endpoints against one bare GROUP BY each; the counts are checked first."""
    from api.params import parse_since
    from carto.models import Pin, Territory, Theme

    until_day = dt.date.today() + dt.timedelta(days=1)
    period = {"since": str(until_day - dt.timedelta(days=PERIOD_DAYS)), "until": str(until_day)}
    since, until = parse_since(period["since"]), parse_since(period["until"])
    bound = {"since": since, "until": until, "previous": since - (until - since)}
    compared_levels = sorted(set(Territory.objects.filter(code__in=COMPARED).values_list("kind", flat=True)))
    requests = [
        ("territories, level=commune", "/api/stats/territories/", {"level": "commune"}, ["commune"], None),
        ("territories, level=commune + period", "/api/stats/territories/", {"level": "commune", **period},
         ["commune"], None),
        ("territories, level=ept + period", "/api/stats/territories/", {"level": "ept", **period}, ["ept"], None),
        ("compare, 3 communes + 1 arrondissement + period", "/api/stats/compare/",
         {"territories": ",".join(COMPARED), **period}, compared_levels, COMPARED),
    ]  # fmt: skip
    statuses = list(Pin.VISIBLE_STATUSES)
    slugs = dict(Theme.objects.values_list("id", "slug"))

    def endpoint(path: str, params: dict, *, cache: bool = True) -> tuple[float, dict]:
        stats_cache(on=cache)
        started = time.perf_counter()
        response = client.get(path, params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:500]
        return elapsed, response.json()

    def bare(statement: sql.Composed, params: dict) -> tuple[float, list[tuple]]:
        started = time.perf_counter()
        rows = cursor.execute(statement, params).fetchall()
        return (time.perf_counter() - started) * 1000, rows

    prepared = []
    for label, path, params, levels, codes in requests:
        has_period = "since" in params
        statement = bare_statement(levels, period=has_period)
        bare_params = {"codes": codes, "statuses": statuses, **(bound if has_period else {})}
        (_, body), (_, rows) = endpoint(path, params), bare(statement, bare_params)  # warm up, and check
        prepared.append((label, path, params, statement, bare_params, check(body, rows, slugs, has_period)))

    rows = {label: Row(label, [], [], mismatches=problems) for label, *_, problems in prepared}
    for _ in range(samples):
        for label, path, params, statement, bare_params, _ in prepared:
            rows[label].ours.append(endpoint(path, params)[0])
            rows[label].cold.append(endpoint(path, params, cache=False)[0])
            rows[label].baseline.append(bare(statement, bare_params)[0])
    # The target holds for every request: the emitted row is the request with the highest ratio.
    worst = max(rows.values(), key=lambda row: row.ratio)
    problems = [f"{row.measure}: {p}" for row in rows.values() for p in row.mismatches]
    summary = Row("comparisons p50 (endpoint / bare GROUP BY)", worst.ours, worst.baseline, target=1.2,
                  mismatches=problems, note=f"worst: {worst.measure}")  # fmt: skip
    cold = max(rows.values(), key=lambda row: row.cold_ratio)
    summary_cold = Row("comparisons p50, cache off (cold endpoint / bare GROUP BY)", cold.cold, cold.baseline,
                       note=f"worst: {cold.measure}")  # fmt: skip
    return [*rows.values(), summary, summary_cold]


def hexbins(client, cursor, samples: int) -> list[Row]:
    """The hexbins endpoint against its own SQL run bare, per zoom, with and without a box; bodies checked."""
    from django.db.models import Sum

    from bench.map_clusters import screen_box
    from carto.models import Pin, PinHex
    from carto.stats.grid import AGGREGATE_MIN_ZOOM
    from carto.stats.heatmaps import aggregates_rebuild, hexbins_query

    visible = Pin.objects.visible().count()
    stored = PinHex.objects.filter(zoom=AGGREGATE_MIN_ZOOM).aggregate(n=Sum("count"))["n"] or 0
    if stored != visible:
        started = time.perf_counter()
        aggregates_rebuild()
        print(
            f"aggregates rebuilt ({stored} counted vs {visible} visible) in {time.perf_counter() - started:.1f} s"
        )
    rng = random.Random(SEED)
    points = (
        Pin.objects.visible().order_by("id").values_list("public_location", flat=True)[: SCREEN_BOXES * 50]
    )
    centres = [p.transform(4326, clone=True) for p in rng.sample(list(points), SCREEN_BOXES)]
    # (label, zoom, the boxes used in turn: None is the whole Métropole, the endpoint's default)
    requests = []
    for zoom in range(8, 13):
        requests.append((f"hexbins z{zoom}, whole Métropole", zoom, [None]))
        requests.append((f"hexbins z{zoom}, screen box", zoom, [screen_box(p.x, p.y, zoom) for p in centres]))

    def endpoint(zoom: int, box, *, cache: bool = True) -> tuple[float, str]:
        params = {"zoom": zoom, **({"bbox": ",".join(map(str, box))} if box else {})}
        stats_cache(on=cache)
        started = time.perf_counter()
        response = client.get("/api/stats/hexbins/", params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:500]
        return elapsed, response.content.decode()

    def bare(statement: str, params: dict) -> tuple[float, str]:
        started = time.perf_counter()
        text = cursor.execute(statement, params).fetchone()[0]
        return (time.perf_counter() - started) * 1000, text

    rows = {label: Row(label, [], []) for label, _, _ in requests}
    # The baseline: the per-theme hexagons summed; the endpoint's own statement reads the totals.
    queries = {
        (zoom, box): hexbins_query(zoom=zoom, bbox=box, totals=False)
        for _, zoom, boxes in requests
        for box in boxes
    }
    own = {(zoom, box): hexbins_query(zoom=zoom, bbox=box) for _, zoom, boxes in requests for box in boxes}
    for label, zoom, boxes in requests:  # warm up, and check every box once
        for box in boxes:
            (_, body), (_, text) = endpoint(zoom, box), bare(*queries[zoom, box])
            if not body == text == bare(*own[zoom, box])[1]:
                rows[label].mismatches.append(f"bbox {box}: endpoint body differs from the bare SQL's text")
    for round_ in range(samples):
        for label, zoom, boxes in requests:
            box = boxes[round_ % len(boxes)]
            rows[label].ours.append(endpoint(zoom, box)[0])
            rows[label].cold.append(endpoint(zoom, box, cache=False)[0])
            rows[label].baseline.append(bare(*queries[zoom, box])[0])
            rows[label].own.append(bare(*own[zoom, box])[0])
    worst = max(rows.values(), key=lambda row: row.ratio)
    problems = [f"{row.measure}: {p}" for row in rows.values() for p in row.mismatches]
    summary = Row("hexbins p50 (endpoint / bare SQL on the aggregate table)", worst.ours, worst.baseline,
                  target=1.3, mismatches=problems, note=f"worst: {worst.measure}")  # fmt: skip
    cold = max(rows.values(), key=lambda row: row.cold_ratio)
    summary_cold = Row("hexbins p50, cache off (cold endpoint / bare SQL on the aggregate table)", cold.cold,
                       cold.baseline, note=f"worst: {cold.measure}")  # fmt: skip
    overhead = max(rows.values(), key=lambda row: statistics.median(row.cold) / statistics.median(row.own))
    summary_own = Row("hexbins p50, cache off (cold endpoint / its own statement on the totals, bare)",
                      overhead.cold, overhead.own, note=f"worst: {overhead.measure}")  # fmt: skip
    return [*rows.values(), summary, summary_cold, summary_own]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--samples", type=int, default=20, help="timed rounds of each request (default 20)")
    args = parser.parse_args()

    use_bench_database()
    ensure_pins(args.count, args.groups)

    from django.conf import settings
    from django.test import Client

    from carto.models import Pin

    settings.ALLOWED_HOSTS = ["*"]
    client, cursor = Client(), open_bare_cursor()
    print(f"{Pin.objects.count()} pins, {Pin.objects.visible().count()} visible; {args.samples} rounds")

    rows = comparisons(client, cursor, args.samples) + hexbins(client, cursor, args.samples)

    width = max(len(row.measure) for row in rows)
    print(
        f"{'':{width}} {'endpoint ms':>12} {'bare SQL ms':>12} {'ratio':>7}  {'cold ms':>8} {'ratio':>6}  target"
    )
    for row in rows:
        ours, base = statistics.median(row.ours), statistics.median(row.baseline)
        target = "" if row.target is None else f"<= {row.target:g}x"
        cold = f"{statistics.median(row.cold):8.1f} {row.cold_ratio:6.2f}" if row.cold else f"{'':8} {'':6}"
        print(
            f"{row.measure:{width}} {ours:12.1f} {base:12.1f} {row.ratio:7.2f}  {cold}  {target:8} {row.note}"
        )
    problems = [p for row in rows if row.target is not None for p in row.mismatches]
    for problem in problems[:20]:
        print("differs from the bare SQL:", problem)
    for row in rows:
        ours, base = statistics.median(row.ours), statistics.median(row.baseline)
        if row.target is not None:
            emit("stats", row.measure, ours, base, row.ratio, f"<= {row.target:g}x", row.ratio <= row.target)
        elif row.measure.startswith(("comparisons p50", "hexbins p50")):  # the cold summaries, informational
            emit("stats", row.measure, ours, base, row.ratio, "(none set)", None)
    if problems:
        raise SystemExit(f"{len(problems)} results differ from the bare SQL")


if __name__ == "__main__":
    main()
