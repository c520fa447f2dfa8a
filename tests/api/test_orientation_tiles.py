"""GET /api/tiles/orientation/{z}/{x}/{y}.mvt: rail lines, stations and QPV outlines, decoded with a real MVT decoder."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.core.cache import cache

from carto.models import Territory
from tests.api.test_tiles import tile_of

pytestmark = pytest.mark.django_db

PARIS = (2.3522, 48.8566)  # Hôtel de Ville
BELLEVILLE_METRO = (2.3767, 48.8721)  # boulevard de Belleville, Paris 19e/20e


@pytest.fixture(autouse=True)
def _empty_tile_cache():
    cache.clear()


def orientation(client, z, x, y):
    response = client.get(f"/api/tiles/orientation/{z}/{x}/{y}.mvt")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return response, mapbox_vector_tile.decode(response.content)


def test_a_z10_paris_tile_holds_the_lines_in_their_colours_and_the_qpv_outlines_without_stations(client):
    _, layers = orientation(client, *tile_of(*PARIS, 10))
    assert set(layers) == {"rail_lines", "qpv"}
    lines = {f["properties"]["label"]: f["properties"] for f in layers["rail_lines"]["features"]}
    assert lines["M2"] == {"label": "M2", "mode": "METRO", "colour": "#0055c8"}
    assert {"RER A", "T3b", "M11"} <= set(lines)
    qpv = {f["properties"]["name"] for f in layers["qpv"]["features"]}
    assert {"Grand Belleville", "Goutte D'Or"} <= qpv
    assert all(set(f["properties"]) == {"code", "name"} for f in layers["qpv"]["features"])


def test_a_z14_tile_at_belleville_names_its_stations_with_their_lines(client):
    _, layers = orientation(client, *tile_of(*BELLEVILLE_METRO, 14))
    assert {"rail_lines", "stations", "qpv"} <= set(layers)
    stations = {f["properties"]["name"]: f["properties"] for f in layers["stations"]["features"]}
    assert stations["Belleville"] == {
        "code": "71853",
        "name": "Belleville",
        "lines": "M2 M11",
        "colour": "#0055c8",
    }
    assert {"M2", "M11"} <= {f["properties"]["label"] for f in layers["rail_lines"]["features"]}
    assert "Grand Belleville" in {f["properties"]["name"] for f in layers["qpv"]["features"]}


def test_at_z12_stations_are_dots_without_names(client):
    _, layers = orientation(client, *tile_of(*BELLEVILLE_METRO, 12))
    assert layers["stations"]["features"]
    assert all("name" not in f["properties"] for f in layers["stations"]["features"])


def tile_point(z, x, y, px, py) -> Point:
    """A point of a decoded tile (extent 4096, y up as mapbox_vector_tile gives it) in WGS84."""
    n, extent = 2**z, 4096
    lon = (x + px / extent) / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1 - py / extent) / n))))
    return Point(lon, lat, srid=4326)


def test_from_z11_each_qpv_is_named_once_at_a_point_inside_it(client):
    _, z10 = orientation(client, *tile_of(*PARIS, 10))
    assert "qpv_labels" not in z10
    tile = tile_of(*BELLEVILLE_METRO, 11)
    _, layers = orientation(client, *tile)
    labels = {f["properties"]["code"]: f for f in layers["qpv_labels"]["features"]}
    belleville = labels["QN07519M"]
    assert belleville["properties"] == {
        "code": "QN07519M",
        "name": "Grand Belleville",
        "population": Territory.objects.get(code="QN07519M").population,
    }
    assert belleville["geometry"]["type"] == "Point"
    point = tile_point(*tile, *belleville["geometry"]["coordinates"])
    assert Territory.objects.get(code="QN07519M").geometry.transform(4326, clone=True).contains(point)
    # One point per QPV, not one per tile it crosses: the neighbouring tile holds it at most in its buffer.
    z, x, y = tile
    _, right = orientation(client, z, x + 1, y)
    beyond = [
        f for f in right.get("qpv_labels", {}).get("features", []) if f["properties"]["code"] == "QN07519M"
    ]
    assert all(f["geometry"]["coordinates"][0] < 0 for f in beyond)


def test_below_z10_the_tile_is_empty(client):
    response, layers = orientation(client, *tile_of(*PARIS, 9))
    assert layers == {} and response.content == b""


def test_orientation_tiles_are_cached_like_the_territory_outlines(client):
    response, _ = orientation(client, *tile_of(*PARIS, 12))
    assert response["Cache-Control"] == "public, max-age=86400"
    again = client.get(response.wsgi_request.path, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["23/0/0", "10/5000/0", "x/1/1"])
def test_a_bad_tile_address_is_a_400_in_the_one_error_shape(client, path):
    response = client.get(f"/api/tiles/orientation/{path}.mvt")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_tile"
