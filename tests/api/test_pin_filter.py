"""One pin filter (api.params.parse_pin_filter, carto.pin_filter): every read endpoint refuses the same bad
values with the same code and keeps the same pins for the same good ones."""

from __future__ import annotations

import datetime as dt
import math

import mapbox_vector_tile
import pytest
from django.core.cache import cache

from tests.factories import BELLEVILLE, make_pin

pytestmark = pytest.mark.django_db

METROPOLE = "200054781"  # SIREN of the Métropole du Grand Paris (EPCI), as loaded from the shared data
METROPOLE_BBOX = "2.2,48.75,2.6,49.0"


def tile_over_belleville(z: int) -> tuple[int, int, int]:
    """The slippy-map tile holding Belleville at zoom z."""
    lon, lat = BELLEVILLE
    n = 2**z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


TILE_Z8 = tile_over_belleville(8)  # aggregated: read from the stored cells
TILE_Z14 = tile_over_belleville(14)  # the pins themselves


def _tile_count(response) -> int:
    assert response.status_code == 200, response.content
    layer = mapbox_vector_tile.decode(response.content).get("pins", {"features": []})
    return sum(f["properties"]["count"] for f in layer["features"])


def _hexbin_count(response) -> int:
    assert response.status_code == 200, response.content
    return sum(f["properties"]["count"] for f in response.json()["features"])


def _compare_count(response) -> int:
    assert response.status_code == 200, response.content
    return response.json()["territories"][0]["pins"]


# Each read endpoint: its path, its own parameters, and how many pins its answer counts.
ENDPOINTS = {
    "list": ("/api/pins/", {}, lambda r: r.json()["count"]),
    "export": ("/api/exports/pins.geojson", {}, lambda r: b"".join(r.streaming_content).count(b'"Feature"')),
    "tiles z8": ("/api/tiles/pins/{}/{}/{}.mvt".format(*TILE_Z8), {}, _tile_count),
    "tiles z14": ("/api/tiles/pins/{}/{}/{}.mvt".format(*TILE_Z14), {}, _tile_count),
    "map groups": ("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10}, lambda r: r.json()["total"]),
    "comparisons": ("/api/stats/compare/", {"territories": METROPOLE}, _compare_count),
    "hexbins": ("/api/stats/hexbins/", {"zoom": 8}, _hexbin_count),
}

BAD_VALUES = [
    ({"theme": "pas-un-theme"}, "unknown_theme"),
    ({"kind": "complaint"}, "invalid_kind"),
    ({"status": "hidden"}, "invalid_status"),
    ({"status": "received,pending"}, "invalid_status"),
    ({"since": "2024-13-45"}, "invalid_date"),
    ({"until": "yesterday"}, "invalid_date"),
    ({"since": "2025-02-01", "until": "2025-01-01"}, "invalid_period"),
]


@pytest.mark.parametrize("name", list(ENDPOINTS))
@pytest.mark.parametrize(("params", "code"), BAD_VALUES)
def test_every_read_endpoint_refuses_a_bad_filter_value_with_the_same_code(client, name, params, code):
    path, own, _ = ENDPOINTS[name]
    response = client.get(path, {**own, **params})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["fields"]) <= {"theme", "kind", "status", "since", "until"}


@pytest.fixture
def sixteen_pins():
    """16 visible pins at Belleville (and 2 hidden ones no filter shows), in two theme groups."""
    for _ in range(6):
        make_pin(*BELLEVILLE, theme="acceder-droits", kind="need")  # group numerique
    for _ in range(5):
        make_pin(*BELLEVILLE, theme="logement", kind="proposal", status="acknowledged")  # group quotidien
    for _ in range(5):
        make_pin(*BELLEVILLE, theme="mobilite", kind="need")  # group quotidien
    for _ in range(2):
        make_pin(*BELLEVILLE, theme="logement", kind="need", status="hidden")


FAR_FUTURE = (dt.date.today() + dt.timedelta(days=3650)).isoformat()
GOOD_VALUES = [
    ({}, 16),
    ({"theme": "quotidien"}, 10),  # a group: its themes
    ({"theme": "numerique"}, 6),
    ({"theme": "logement"}, 5),
    ({"kind": "need"}, 11),
    ({"kind": "proposal", "theme": "quotidien"}, 5),
    ({"since": "2000-01-01"}, 16),
    ({"since": FAR_FUTURE}, 0),
]
# The hexagons are kept per theme, kind and month, for every visible status: `status` is not theirs.
STATUS_VALUES = [
    ({"status": "acknowledged"}, 5),
    ({"status": "received"}, 11),
    ({"status": "received,acknowledged"}, 16),
]


@pytest.mark.parametrize(("params", "expected"), GOOD_VALUES + STATUS_VALUES)
def test_every_read_endpoint_keeps_the_same_pins_for_the_same_filter(client, sixteen_pins, params, expected):
    counted = {}
    for name, (path, own, count) in ENDPOINTS.items():
        if name == "hexbins" and "status" in params:
            continue
        cache.clear()  # test transactions never commit, so the map version never moves between requests
        counted[name] = count(client.get(path, {**own, **params}))
    assert counted == dict.fromkeys(counted, expected)


def test_a_theme_group_counts_the_same_pins_on_the_list_and_in_the_comparisons(client, sixteen_pins):
    listed = client.get("/api/pins/", {"theme": "quotidien"}).json()["count"]
    compared = client.get("/api/stats/compare/", {"territories": f"{METROPOLE},75056", "theme": "quotidien"})
    metropole, paris = compared.json()["territories"]
    assert listed == metropole["pins"] == paris["pins"] == 10
    assert metropole["by_theme"] == {"logement": 5, "mobilite": 5}


def test_until_is_exclusive_and_means_the_same_on_the_list_tiles_map_groups_and_comparisons(
    client, sixteen_pins
):
    from carto.models import Pin

    now = dt.datetime.now(dt.UTC)
    Pin.objects.filter(theme__slug="mobilite").update(created_at=now - dt.timedelta(days=40))
    until = (now - dt.timedelta(days=20)).isoformat()
    for name in ("list", "export", "tiles z8", "tiles z14", "map groups", "comparisons"):
        path, own, count = ENDPOINTS[name]
        cache.clear()
        assert count(client.get(path, {**own, "until": until})) == 5, name
