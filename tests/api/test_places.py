"""GET /api/places/?q= and GET /api/places/near/ on the real territories, QPV and IDFM stations."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

RESULT_FIELDS = {"kind", "code", "name", "label", "lon", "lat", "bbox"}


def search(client, q: str) -> list[dict]:
    response = client.get("/api/places/", {"q": q})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) <= 10
    assert all(set(r) == RESULT_FIELDS for r in results)
    return results


@pytest.mark.parametrize("q", ["Paris 20e", "20e", "75020", "Paris 20", "paris 20eme", "75120"])
def test_every_way_of_writing_the_20e_finds_the_arrondissement_first(client, q):
    first = search(client, q)[0]
    assert (first["kind"], first["code"], first["name"]) == (
        "arrondissement",
        "75120",
        "Paris 20e Arrondissement",
    )
    assert first["label"] == "Paris 20e Arrondissement (75020)"
    min_lon, min_lat, max_lon, max_lat = first["bbox"]
    assert min_lon < first["lon"] < max_lon and min_lat < first["lat"] < max_lat


def test_belleville_finds_its_station_with_its_lines_then_the_qpv(client):
    results = search(client, "Belleville")
    assert results[0]["kind"] == "station"
    assert results[0]["label"] == "Belleville · M2 M11"
    assert results[0]["bbox"] is None
    assert results[0]["lon"] == pytest.approx(2.3767, abs=0.001)  # rue de Belleville, Paris 19e/20e
    qpv = [r["name"] for r in results if r["kind"] == "qpv"]
    assert qpv[:2] == ["Grand Belleville", "Petit Belleville"]


def test_montreuil_finds_the_commune_first_then_its_stations(client):
    results = search(client, "Montreuil")
    assert (results[0]["kind"], results[0]["code"], results[0]["label"]) == (
        "commune",
        "93048",
        "Montreuil (93)",
    )
    assert "Mairie de Montreuil · M9" in [r["label"] for r in results]


def test_a_typo_still_finds_montreuil(client):
    assert search(client, "Montreuill")[0]["code"] == "93048"


@pytest.mark.parametrize("q", ["Chateau rouge", "château rouge", "CHATEAU-ROUGE"])
def test_a_station_is_found_without_its_accents_or_case(client, q):
    first = search(client, q)[0]
    assert (first["kind"], first["name"], first["label"]) == (
        "station",
        "Château Rouge",
        "Château Rouge · M4",
    )


@pytest.mark.parametrize(
    ("q", "code"),
    [("Goutte d'Or", "QN07511M"), ("goutte dor", "QN07511M"), ("Grand Belleville", "QN07519M"),
     ("Les Amandiers", "QN07520M"), ("amandiers", "QN07520M")],
)  # fmt: skip
def test_qpv_are_found_by_their_name(client, q, code):
    first = search(client, q)[0]
    assert (first["kind"], first["code"]) == ("qpv", code)
    assert first["label"].endswith("· Paris")  # the communes the QPV lies in


def test_on_a_tie_the_commune_comes_before_the_station_of_the_same_name(client):
    results = search(client, "Bondy")
    assert [(r["kind"], r["name"]) for r in results[:2]] == [("commune", "Bondy"), ("station", "Bondy")]


def test_a_station_found_by_another_of_its_names_says_which(client):
    first = search(client, "La Muette")[0]
    assert first["label"] == "Boulainvilliers (La Muette) · M9 RER C"


def test_stations_outside_the_metropole_are_not_offered(client):
    # Massy-Palaiseau (Essonne) is in IDFM's file, but no pin can be placed there.
    assert all(r["name"] != "Massy-Palaiseau" for r in search(client, "Massy-Palaiseau"))
    # Argenteuil (Val-d'Oise) is a commune of the Métropole: its station is offered.
    assert ("station", "Argenteuil · Train J") in [
        (r["kind"], r["label"]) for r in search(client, "Argenteuil")
    ]


def test_a_search_is_one_statement(client):
    with CaptureQueriesContext(connection) as captured:
        search(client, "Belleville")
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    # The SELECT, with its planner hint (SET LOCAL) in its own transaction (a savepoint inside the test's).
    assert statements.count("SELECT") + statements.count("WITH") == 1
    assert len(statements) <= 4


@pytest.mark.parametrize("q", [None, "", "a", "  é  ", "x" * 101])
def test_a_query_too_short_or_too_long_is_a_400_in_the_one_error_shape(client, q):
    response = client.get("/api/places/", {} if q is None else {"q": q})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "invalid_query" and "q" in error["fields"]


def test_a_nul_byte_in_the_query_is_a_400(client):
    assert client.get("/api/places/", {"q": "ab\x00"}).status_code == 400


def test_near_belleville_names_the_station_its_lines_and_the_qpv(client):
    response = client.get("/api/places/near/", {"lat": 48.8715, "lon": 2.3775})  # rue de Belleville
    assert response.status_code == 200
    body = response.json()
    station = body["station"]
    assert station["label"] == "Belleville · M2 M11"
    assert station["lines"] == [{"label": "M2", "colour": "#0055c8"}, {"label": "M11", "colour": "#704b1c"}]
    assert 50 <= station["distance_m"] <= 150 and station["distance_m"] % 10 == 0
    assert body["qpv"] == {"code": "QN07519M", "name": "Grand Belleville"}
    assert body["commune"] == {"code": "75056", "name": "Paris"}
    assert body["inside_metropole"] is True


def test_near_a_point_with_no_station_within_a_kilometre_names_none(client):
    # Bois de Vincennes, the Lac des Minimes: the nearest station is over 1 km away.
    body = client.get("/api/places/near/", {"lat": 48.8335, "lon": 2.4575}).json()
    assert body["station"] is None and body["qpv"] is None


def test_near_outside_the_metropole_answers_nothing_but_no_error(client):
    body = client.get("/api/places/near/", {"lat": 48.40, "lon": 2.70}).json()  # Fontainebleau
    assert body == {
        "inside_metropole": False,
        "station": None,
        "commune": None,
        "arrondissement": None,
        "qpv": None,
    }


def test_near_is_three_queries(client, django_assert_num_queries):
    client.get("/api/places/near/", {"lat": 48.8715, "lon": 2.3775})  # GeoDjango reads spatial_ref_sys once
    with django_assert_num_queries(3):
        client.get("/api/places/near/", {"lat": 48.8715, "lon": 2.3775})


@pytest.mark.parametrize(
    ("params", "code"),
    [({"lat": "abc", "lon": "2.38"}, "invalid_coordinates"), ({"lat": "48.87"}, "missing_field"),
     ({}, "missing_field"), ({"lat": "95", "lon": "2.38"}, "invalid_coordinates"),
     ({"lat": "2.38", "lon": "48.87"}, "coordinates_swapped"), ({"lat": "nan", "lon": "2.38"}, "invalid_coordinates")],
)  # fmt: skip
def test_near_with_bad_coordinates_is_a_400_in_the_one_error_shape(client, params, code):
    response = client.get("/api/places/near/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
