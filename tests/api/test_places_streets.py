"""GET /api/places/?q= finds streets once the basemap's are imported (tests/basemaps.py, cut by PostGIS)."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point

from carto.services.places import streets_load
from tests.api.test_places import search
from tests.basemaps import STREETS, write_street_basemap

pytestmark = pytest.mark.django_db

ROUTE = GEOSGeometry(f"SRID=4326;{STREETS[1]['wkt']}")
HOMONYMS = {"Allée des Essais · Paris 16e", "Allée des Essais · Boulogne-Billancourt"}
# Streets named like a commune and a station, in the Bois de Boulogne: the commune and the station come first.
NAMESAKES = [
    {"name": "Montreuil", "latin": None, "class": "minor", "wkt": "LINESTRING(2.2490 48.8620, 2.2510 48.8620)"},
    {"name": "Belleville", "latin": None, "class": "minor", "wkt": "LINESTRING(2.2490 48.8640, 2.2510 48.8640)"},
]  # fmt: skip


@pytest.fixture
def streets(tmp_path):
    streets_load(path=write_street_basemap(tmp_path / "streets.pmtiles", streets=[*STREETS, *NAMESAKES]))


def street_results(client, q: str) -> list[dict]:
    return [r for r in search(client, q) if r["kind"] == "street"]


def test_a_street_typed_whole_comes_first_with_its_arrondissement_a_point_on_it_and_its_box(client, streets):
    first = search(client, "Route des Tests")[0]
    assert (first["kind"], first["name"], first["label"]) == (
        "street",
        "Route des Tests",
        "Route des Tests · Paris 16e",
    )
    assert first["code"].startswith("75116-")
    point = Point(first["lon"], first["lat"], srid=4326)
    assert ROUTE.transform(2154, clone=True).distance(point.transform(2154, clone=True)) < 1  # on the street
    assert first["lat"] == pytest.approx(48.8630, abs=0.0005)  # about its middle
    min_lon, min_lat, max_lon, max_lat = first["bbox"]
    assert (min_lon, max_lon) == pytest.approx((2.2530, 2.2530), abs=0.0001)
    assert (min_lat, max_lat) == pytest.approx((48.8600, 48.8660), abs=0.0001)


@pytest.mark.parametrize("q", ["Allée des Essais", "allee des essais", "ALLEE-DES-ESSAIS", "all. des essais"])
def test_homonyms_in_two_communes_are_both_found_and_labelled_apart(client, streets, q):
    results = search(client, q)
    assert {r["label"] for r in results[:2]} == HOMONYMS
    assert len({r["code"] for r in results[:2]}) == 2
    boulogne = next(r for r in results if r["label"].endswith("Boulogne-Billancourt"))
    assert boulogne["code"].startswith("92012-") and boulogne["lat"] == pytest.approx(48.8390, abs=0.0005)


@pytest.mark.parametrize(
    "q",
    ["route des tests", "rte des tests", "Rte. des Tests", "tests", "route des testts", "route des tets",
     "rout des tests"],
)  # fmt: skip
def test_a_street_is_found_without_accents_by_an_abbreviation_a_word_or_with_a_typo(client, streets, q):
    assert "Route des Tests · Paris 16e" in [r["label"] for r in street_results(client, q)]


def test_a_commune_or_a_station_typed_whole_still_comes_before_a_street_of_that_name(client, streets):
    montreuil = search(client, "Montreuil")
    assert (montreuil[0]["kind"], montreuil[0]["label"]) == ("commune", "Montreuil (93)")
    assert "Montreuil · Paris 16e" in [r["label"] for r in montreuil]
    belleville = search(client, "Belleville")
    assert (belleville[0]["kind"], belleville[0]["label"]) == ("station", "Belleville · M2 M11")
    assert belleville[1]["label"] == "Belleville · Paris 16e"  # typed whole too: before "Grand Belleville"


def test_places_of_every_other_kind_are_found_as_before(client, streets):
    assert search(client, "Paris 20e")[0]["code"] == "75120"
    assert search(client, "Chateau rouge")[0]["label"] == "Château Rouge · M4"
    assert search(client, "goutte dor")[0]["code"] == "QN07511M"
    assert search(client, "St-Denis")[0]["name"] == "Saint-Denis"  # an abbreviation of a commune's name too


@pytest.mark.parametrize("q", ["r", "r" * 101, "r.\x00"])
def test_bad_queries_are_still_a_400_in_the_one_error_shape(client, streets, q):
    response = client.get("/api/places/", {"q": q})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}
