"""GET /api/stats/territories/, /api/stats/compare/, /api/stats/hexbins/: rates, suppression, trends."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db.models import Sum
from django.utils import timezone

from carto.models import Pin, PinHex, Territory
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

PARIS_POPULATION = 2_103_778  # INSEE, as loaded from the shared data
BONDY_POPULATION = 50_595


def pins(place, n, **extra) -> list[Pin]:
    return [make_pin(*place, **extra) for _ in range(n)]


def by_code(body) -> dict:
    return {row["code"]: row for row in body["territories"]}


def test_every_commune_is_listed_with_pins_per_1000_inhabitants_of_its_real_population(client):
    pins(BELLEVILLE, 6)
    pins(BELLEVILLE, 5, theme="logement")
    response = client.get("/api/stats/territories/", {"level": "commune"})
    assert response.status_code == 200
    rows = by_code(response.json())
    assert len(rows) == 130
    paris = rows["75056"]
    assert paris["population"] == PARIS_POPULATION
    assert paris["pins"] == 11
    assert paris["per_1000"] == pytest.approx(11 * 1000 / PARIS_POPULATION, abs=1e-6)
    assert paris["by_theme"] == {"acceder-droits": 6, "logement": 5}
    assert paris["by_theme_per_1000"]["logement"] == pytest.approx(5 * 1000 / PARIS_POPULATION, abs=1e-6)
    assert rows["93071"]["pins"] == 0 and rows["93071"]["per_1000"] == 0.0  # Sevran: nothing yet


def test_small_counts_are_suppressed_and_their_rates_hidden(client):
    pins(BONDY, 3)
    pins(BELLEVILLE, 5)
    pins(BELLEVILLE, 1, theme="logement")
    rows = by_code(client.get("/api/stats/territories/", {"level": "commune"}).json())
    bondy = rows["93010"]
    assert bondy["pins"] == "<5"
    assert bondy["per_1000"] is None
    assert bondy["by_theme"] == {"acceder-droits": "<5"}
    assert rows["75056"]["by_theme"] == {"acceder-droits": 5, "logement": "<5"}
    assert rows["75056"]["by_theme_per_1000"]["logement"] is None


def test_hidden_pins_are_not_counted(client):
    pins(BONDY, 5)
    pins(BONDY, 4, status="hidden")
    rows = by_code(client.get("/api/stats/territories/", {"level": "commune"}).json())
    assert rows["93010"]["pins"] == 5
    assert rows["93010"]["per_1000"] == pytest.approx(5 * 1000 / BONDY_POPULATION, abs=1e-6)


GOUTTE_DOR = (2.3560, 48.8850)  # rue Polonceau, Paris 18e: inside QPV QN07511M


def test_ept_arrondissement_and_qpv_levels(client):
    pins(BELLEVILLE, 5)
    ept = by_code(client.get("/api/stats/territories/", {"level": "ept"}).json())
    assert len(ept) == 12 and ept["T1"]["pins"] == 5
    arrondissements = by_code(client.get("/api/stats/territories/", {"level": "arrondissement"}).json())
    placed = Pin.objects.first().arrondissement
    assert arrondissements[placed.code]["pins"] == 5
    assert arrondissements[placed.code]["per_1000"] == pytest.approx(5000 / placed.population, abs=1e-6)
    pins(GOUTTE_DOR, 6)
    qpv = by_code(client.get("/api/stats/territories/", {"level": "qpv"}).json())
    assert len(qpv) == 175
    goutte = Territory.objects.get(code="QN07511M")
    assert qpv["QN07511M"]["pins"] == 6  # per 1,000 QPV inhabitants, not the commune's
    assert qpv["QN07511M"]["per_1000"] == pytest.approx(6000 / goutte.population, abs=1e-6)


def test_the_trend_compares_with_the_previous_period_of_equal_length(client):
    now = timezone.now()
    old = pins(BELLEVILLE, 5)
    Pin.objects.filter(pk__in=[p.pk for p in old]).update(created_at=now - dt.timedelta(days=45))
    pins(BELLEVILLE, 10)
    since = (now - dt.timedelta(days=30)).date().isoformat()
    until = (now + dt.timedelta(days=2)).date().isoformat()  # a date is midnight in Paris
    paris = by_code(
        client.get("/api/stats/territories/", {"level": "commune", "since": since, "until": until}).json()
    )["75056"]
    assert paris["pins"] == 10
    assert paris["trend"] == {"current": 10, "previous": 5, "change_pct": 100.0}


def test_compare_lists_the_territories_side_by_side_in_the_order_given(client):
    pins(BONDY, 7)
    pins(BELLEVILLE, 5)
    body = client.get("/api/stats/compare/", {"territories": "93010,75056,T8"}).json()
    assert [row["code"] for row in body["territories"]] == ["93010", "75056", "T8"]
    bondy, paris, est_ensemble = body["territories"]
    assert bondy["pins"] == 7 and bondy["per_1000"] == pytest.approx(7000 / BONDY_POPULATION, abs=1e-6)
    assert paris["pins"] == 5
    assert est_ensemble["pins"] == 7  # Bondy is in T8 Est Ensemble


def hexagon_counts(client, **params) -> list:
    body = client.get("/api/stats/hexbins/", params).json()
    return [feature["properties"]["count"] for feature in body["features"]]


def test_hexbins_are_postgis_hexagons_holding_the_pins(client):
    from django.contrib.gis.geos import GEOSGeometry, Point

    belleville = pins(BELLEVILLE, 6)
    pins(BONDY, 2)
    body = client.get("/api/stats/hexbins/", {"zoom": 0}).json()
    assert body["type"] == "FeatureCollection"
    # Hexagons are stored from z8 (6 km sides): a coarser request gets those; Bondy's 2 pins are suppressed.
    assert body["zoom"] == 8
    assert sorted(map(str, (f["properties"]["count"] for f in body["features"]))) == ["6", "<5"]
    # z12 hexagons have the area of a 611 m square cell (379 m sides); the blurred pins may straddle two.
    assert PinHex.objects.filter(zoom=12).aggregate(n=Sum("count"))["n"] == 8
    body = client.get("/api/stats/hexbins/", {"zoom": 12}).json()
    cell_m = 2 * 20037508.342789244 / 2**16  # a z12 square cell: 611.5 m
    assert 3 * 3**0.5 / 2 * body["hex_m"] ** 2 == pytest.approx(cell_m**2, rel=1e-3)  # same area
    assert all(c == "<5" or c >= 5 for c in (f["properties"]["count"] for f in body["features"]))
    polygons = [GEOSGeometry(json.dumps(f["geometry"]), srid=4326) for f in body["features"]]
    assert all(len(p.coords[0]) == 7 for p in polygons)  # six corners, closed
    for pin in belleville:  # each pin lies in one of the hexagons served
        location = Point(*pin.public_location.transform(4326, clone=True).coords, srid=4326)
        assert any(p.buffer(1e-7).contains(location) for p in polygons)
    assert hexagon_counts(client, zoom=12, theme="logement") == []
    assert hexagon_counts(client, zoom=12, kind="proposal") == []
    # A box far from the Métropole holds none of them.
    assert hexagon_counts(client, zoom=8, bbox="5.3,43.2,5.5,43.4") == []


def test_the_hexagon_a_point_is_counted_in_is_the_one_postgis_draws():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH pts AS (
              SELECT (random() - 0.5) * 4e7 AS x, (random() - 0.5) * 4e7 AS y, s
              FROM generate_series(1, 20000), (VALUES (1.0), (37.3), (1234.5), (379.2)) AS v(s)
            )
            SELECT count(*), count(*) FILTER (WHERE ST_Intersects(ST_Hexagon(s, k[1], k[2]), ST_MakePoint(x, y)))
            FROM pts, carto_hex_cell(x, y, s) AS k
            """
        )
        total, inside = cursor.fetchone()
    assert total == 80_000 and inside == total


@pytest.mark.parametrize(
    "path,params",
    [
        ("/api/stats/territories/", {"level": "departement"}),
        ("/api/stats/territories/", {}),
        ("/api/stats/territories/", {"level": "commune", "since": "2025-06-01", "until": "2025-01-01"}),
        ("/api/stats/territories/", {"level": "commune", "theme": "nope"}),
        ("/api/stats/compare/", {"territories": "93010,99999"}),
        ("/api/stats/compare/", {}),
        ("/api/stats/hexbins/", {"zoom": 13}),
        ("/api/stats/hexbins/", {}),
        ("/api/stats/hexbins/", {"zoom": 8, "bbox": "2.5,48.9,2.2,48.8"}),
        ("/api/stats/hexbins/", {"zoom": 8, "kind": "complaint"}),
    ],
)
def test_bad_statistics_requests_are_400_in_the_json_error_shape(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


METROPOLE = "200054781"  # SIREN of the Métropole du Grand Paris (EPCI), as loaded from the shared data


class QueryLog:
    """SQL statements run on the default connection (the test client's request_started resets
    connection.queries, so CaptureQueriesContext cannot count a request's queries)."""

    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        # The map version's read (at most once a second per worker, keys the statistics cache) is not one.
        if "carto_map_version_seq" not in sql:
            self.statements.append(sql)
        return execute(sql, params, many, context)


def test_compare_counts_the_metropole_every_level_and_their_trend_in_one_query(client):
    from django.db import connection

    now = timezone.now()
    old = pins(BONDY, 6) + pins(BELLEVILLE, 2, theme="logement")
    Pin.objects.filter(pk__in=[p.pk for p in old]).update(created_at=now - dt.timedelta(days=45))
    pins(BONDY, 5)
    pins(BELLEVILLE, 7)
    pins(BELLEVILLE, 3, status="hidden")
    since = (now - dt.timedelta(days=30)).date().isoformat()
    until = (now + dt.timedelta(days=2)).date().isoformat()
    log = QueryLog()
    with connection.execute_wrapper(log):
        response = client.get(
            "/api/stats/compare/",
            {"territories": f"{METROPOLE},T8,93010,75056", "since": since, "until": until},
        )
    assert response.status_code == 200
    assert len(log.statements) == 1
    metropole, est_ensemble, bondy, paris = response.json()["territories"]
    assert metropole["kind"] == "metropole" and metropole["pins"] == 12
    # Housing was pinned only in the previous period: it counts in the trend, not in this period's themes.
    assert metropole["by_theme"] == {"acceder-droits": 12}
    assert metropole["trend"] == {"current": 12, "previous": 8, "change_pct": 50.0}
    for row in (est_ensemble, bondy):
        assert row["pins"] == 5
        assert row["trend"] == {"current": 5, "previous": 6, "change_pct": -16.7}
    assert bondy["per_1000"] == pytest.approx(5000 / BONDY_POPULATION, abs=1e-6)
    assert paris["pins"] == 7 and paris["by_theme_per_1000"]["acceder-droits"] == pytest.approx(
        7000 / PARIS_POPULATION, abs=1e-6
    )
    assert paris["trend"] == {"current": 7, "previous": "<5", "change_pct": None}


def test_a_whole_level_is_listed_in_one_query_with_territories_without_pins(client):
    from django.db import connection

    pins(BONDY, 5, kind="proposal")
    pins(BONDY, 2)
    log = QueryLog()
    with connection.execute_wrapper(log):
        body = client.get("/api/stats/territories/", {"level": "ept", "kind": "proposal"}).json()
    assert len(log.statements) == 1
    assert [row["code"] for row in body["territories"]] == sorted(row["code"] for row in body["territories"])
    rows = by_code(body)
    assert rows["T8"]["pins"] == 5 and rows["T8"]["by_theme"] == {"acceder-droits": 5}
    assert rows["T8"]["trend"] is None
    assert rows["T1"] == {
        "code": "T1",
        "name": rows["T1"]["name"],
        "kind": "ept",
        "population": PARIS_POPULATION,
        "pins": 0,
        "supports": 0,
        "per_1000": 0.0,
        "by_theme": {},
        "by_theme_per_1000": {},
        "trend": None,
    }


def test_compare_names_only_the_unknown_codes(client):
    response = client.get("/api/stats/compare/", {"territories": "93010,99999,T8,XX"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"territories": ["99999", "XX"]}


def test_a_repeated_statistics_request_is_answered_from_the_cache_until_a_write_bumps_the_map_version(
    client, django_capture_on_commit_callbacks
):
    from django.db import connection

    with django_capture_on_commit_callbacks(execute=True):
        pins(BONDY, 5)
    requests = [
        ("/api/stats/compare/", {"territories": "93010", "since": "2020-01-01", "until": "2100-01-01"}),
        ("/api/stats/territories/", {"level": "commune"}),
        ("/api/stats/hexbins/", {"zoom": 10}),
    ]

    def counted(path, params) -> int:
        body = client.get(path, params).json()
        if "features" in body:
            return sum(f["properties"]["count"] for f in body["features"])
        return by_code(body)["93010"]["pins"]

    log = QueryLog()
    with connection.execute_wrapper(log):
        assert [counted(*r) for r in requests] == [5, 5, 5]
    assert len(log.statements) == 3
    log = QueryLog()
    with connection.execute_wrapper(log):
        assert [counted(*r) for r in requests] == [5, 5, 5]
    assert log.statements == []
    with django_capture_on_commit_callbacks(execute=True):  # the new pin's commit bumps the version
        pins(BONDY, 1)
    assert [counted(*r) for r in requests] == [6, 6, 6]


def test_a_period_ending_now_is_counted_again_on_every_request(client):
    from django.db import connection

    pins(BONDY, 5)
    params = {"territories": "93010", "since": "2020-01-01"}  # no `until`: the periods move with the clock
    client.get("/api/stats/compare/", params)
    log = QueryLog()
    with connection.execute_wrapper(log):
        assert by_code(client.get("/api/stats/compare/", params).json())["93010"]["pins"] == 5
    assert len(log.statements) == 1


def test_unfiltered_hexbins_read_the_totals_and_equal_the_per_theme_hexagons_summed(client):
    from django.db import connection

    from carto.stats.heatmaps import hexbins_query

    pins(BELLEVILLE, 6)
    pins(BELLEVILLE, 3, theme="logement", kind="proposal")
    pins(BONDY, 7, theme="mobilite")
    for zoom in range(8, 13):
        totals_sql, params = hexbins_query(zoom=zoom)
        per_theme_sql, _ = hexbins_query(zoom=zoom, totals=False)
        assert "carto_pin_hex_total" in totals_sql and "carto_pin_hex_total" not in per_theme_sql
        with connection.cursor() as cursor:
            cursor.execute(per_theme_sql, params)
            per_theme = cursor.fetchone()[0]
        assert client.get("/api/stats/hexbins/", {"zoom": zoom}).content.decode() == per_theme
        assert sum(f["properties"]["count"] for f in json.loads(per_theme)["features"]) == 16
