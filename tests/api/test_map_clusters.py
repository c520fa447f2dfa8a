"""GET /api/pins/clusters/?bbox=&zoom=: cluster counts sum exactly to the visible pins in the box."""

from __future__ import annotations

import pytest
from django.db import connection

from carto.models import Pin
from carto.stats.map_groups import BOX_COUNT_SQL, box_count_params
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin

pytestmark = pytest.mark.django_db

METROPOLE_BBOX = "2.2,48.75,2.6,49.0"


def visible_in(bbox) -> int:
    with connection.cursor() as cursor:
        cursor.execute(BOX_COUNT_SQL, box_count_params(tuple(float(v) for v in bbox.split(","))))
        return cursor.fetchone()[0]


@pytest.mark.parametrize("zoom", [5, 10, 12, 14, 17])
def test_cluster_counts_sum_exactly_to_the_visible_pins_in_the_box(client, zoom):
    for place, n in ((BELLEVILLE, 4), (BONDY, 3), (VILLENEUVE_LA_GARENNE, 2)):
        for _ in range(n):
            make_pin(*place)
    make_pin(*BONDY, status="hidden")
    make_pin(*BELLEVILLE, status="pending")
    for bbox in (METROPOLE_BBOX, "2.35,48.85,2.40,48.90", "2.30,48.92,2.50,48.95"):
        body = client.get("/api/pins/clusters/", {"bbox": bbox, "zoom": zoom}).json()
        assert sum(c["count"] for c in body["clusters"]) == body["total"] == visible_in(bbox)
    assert visible_in(METROPOLE_BBOX) == 9


def test_at_a_low_zoom_nearby_pins_merge_and_at_a_high_zoom_places_stay_apart(client):
    # Public-space theme (no blur): the pins of one place cannot straddle a grid line.
    for _ in range(3):
        make_pin(*BELLEVILLE, theme="mobilite")
    for _ in range(2):
        make_pin(*BONDY, theme="mobilite")
    # At zoom 4 a grid cell is ~150 km wide: Belleville and Bondy (8 km apart) share one.
    low = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 4}).json()["clusters"]
    assert [c["count"] for c in low] == [5]
    high = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 12}).json()["clusters"]
    assert sorted(c["count"] for c in high) == [2, 3]
    assert all(2.2 < c["lon"] < 2.6 and 48.75 < c["lat"] < 49.0 for c in high)


def test_filters_apply_to_clusters(client):
    make_pin(*BELLEVILLE, theme="logement")
    make_pin(*BELLEVILLE)
    body = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10, "theme": "logement"}).json()
    assert body["total"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"zoom": 10},
        {"bbox": METROPOLE_BBOX},
        {"bbox": METROPOLE_BBOX, "zoom": "23"},
        {"bbox": METROPOLE_BBOX, "zoom": "-1"},
        {"bbox": METROPOLE_BBOX, "zoom": "ten"},
        {"bbox": "2.6,48.75,2.2,49.0", "zoom": 10},
        {"bbox": "2.2,48.75,200,49.0", "zoom": 10},
        {"bbox": METROPOLE_BBOX, "zoom": 10, "kind": "rumour"},
    ],
)
def test_bad_cluster_requests_are_400_in_the_json_error_shape(client, params):
    response = client.get("/api/pins/clusters/", params)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


STORED_BOXES = (METROPOLE_BBOX, "2.35,48.85,2.40,48.90", "2.30,48.86,2.50,48.95", "2.37,48.86,2.49,48.91")


def both_paths(bbox: str, zoom: int, **filters) -> tuple[list, list]:
    from carto.pin_filter import PinFilter
    from carto.stats.map_groups import map_groups_in_box

    box = tuple(float(v) for v in bbox.split(","))
    stored = map_groups_in_box(bbox=box, zoom=zoom, pin_filter=PinFilter(**filters))
    raw = map_groups_in_box(bbox=box, zoom=zoom, use_cells=False, pin_filter=PinFilter(**filters))
    return stored, raw


def assert_same_clusters(stored: list, raw: list) -> None:
    assert sum(c["count"] for c in stored) == sum(c["count"] for c in raw)
    key = lambda c: (c["count"], round(c["lon"], 4), round(c["lat"], 4))  # noqa: E731
    assert sorted(map(key, stored)) == sorted(map(key, raw))


def test_stored_cells_and_raw_pins_give_the_same_clusters_and_a_hidden_pin_leaves_both(client):
    from carto.stats.map_groups import _stored_plan

    pins = []
    for i in range(12):
        # Spread over the box so that some pins fall in stored (core) cells and some on the border.
        lon, lat = 2.36 + i * 0.011, 48.865 + (i % 5) * 0.009
        pins.append(
            make_pin(
                lon, lat, theme="mobilite" if i % 3 else "logement", kind="need" if i % 2 else "proposal"
            )
        )
    for place in (BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE):
        pins.append(make_pin(*place))
    for zoom in (5, 8, 10, 11, 12):
        for bbox in STORED_BOXES:
            assert _stored_plan(tuple(float(v) for v in bbox.split(",")), zoom) is not None
            stored, raw = both_paths(bbox, zoom)
            assert_same_clusters(stored, raw)
            assert sum(c["count"] for c in stored) == visible_in(bbox)
    theme_ids = (pins[1].theme_id,)
    assert_same_clusters(*both_paths(METROPOLE_BBOX, 10, theme_ids=theme_ids, kind="need"))

    before = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10}).json()["total"]
    victim = pins[4]
    victim.status = Pin.Status.HIDDEN
    victim.save(update_fields=["status"])  # the trigger uncounts it
    for zoom in (8, 12):
        for bbox in STORED_BOXES:
            stored, raw = both_paths(bbox, zoom)
            assert_same_clusters(stored, raw)
            assert sum(c["count"] for c in stored) == visible_in(bbox)
    after = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10}).json()["total"]
    assert after == before - 1 == visible_in(METROPOLE_BBOX)


def test_a_status_filter_or_a_mid_month_since_still_gives_exact_counts(client):
    for place in (BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE):
        make_pin(*place)
    body = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 8, "status": "received"}).json()
    assert body["total"] == Pin.objects.filter(status="received").count()
    body = client.get(
        "/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 8, "since": "2000-01-15"}
    ).json()
    assert body["total"] == 3


def test_for_random_boxes_and_filters_the_groups_count_exactly_the_visible_pins_of_the_box(client):
    import random

    from carto.stats.grid import TOTALS_RIM_ZOOM
    from carto.stats.map_groups import _TOTAL_RINGS, _stored_plan

    rng = random.Random(15)
    # Paris and its first ring, all in the Métropole; blurred themes and an unblurred one.
    for _ in range(70):
        make_pin(
            rng.uniform(2.26, 2.50),
            rng.uniform(48.81, 48.94),
            theme=rng.choice(["mobilite", "logement", "acceder-droits"]),
            kind=rng.choice(["need", "proposal"]),
        )
    hidden = make_pin(*BELLEVILLE)
    hidden.status = Pin.Status.HIDDEN
    hidden.save(update_fields=["status"])
    logement = {"theme_ids": (Pin.objects.filter(theme__slug="logement").values_list("theme_id")[0][0],)}
    for _ in range(30):
        zoom = rng.randint(8, 12)
        lon, lat = rng.uniform(2.28, 2.48), rng.uniform(48.82, 48.93)
        half_w, half_h = rng.uniform(0.005, 0.2), rng.uniform(0.003, 0.12)
        bbox = f"{lon - half_w:.6f},{lat - half_h:.6f},{lon + half_w:.6f},{lat + half_h:.6f}"
        body = client.get("/api/pins/clusters/", {"bbox": bbox, "zoom": zoom}).json()
        assert sum(c["count"] for c in body["clusters"]) == body["total"] == visible_in(bbox)
        # The same clusters (counts and centroids) as the pin-by-pin statement, with and without filters.
        for filters in ({}, {"kind": "need"}, logement):
            assert_same_clusters(*both_paths(bbox, zoom, **filters))
    # Without filters the core's rim is read at the totals' rim zoom.
    plan = _stored_plan((2.28, 48.83, 2.46, 48.92), 11, fine=TOTALS_RIM_ZOOM, rings=_TOTAL_RINGS)
    assert plan["rzoom1"] == TOTALS_RIM_ZOOM and plan["rzoom0"] == 12


def test_an_anonymous_json_get_answers_as_the_drf_view_does(client):
    # pin_clusters answers anonymous JSON GETs itself; "application/*" takes PinClusterView, DRF's path.
    for place in (BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE):
        make_pin(*place)
    params = {"bbox": METROPOLE_BBOX, "zoom": 10}
    plain = client.get("/api/pins/clusters/", params, HTTP_ACCEPT="*/*")
    drf = client.get("/api/pins/clusters/", params, HTTP_ACCEPT="application/*")
    assert plain.status_code == drf.status_code == 200
    assert plain.content == drf.content and plain.json()["total"] == 3
    vary = lambda r: set(r["Vary"].split(", "))  # noqa: E731 (the same names, in any order)
    assert vary(plain) == vary(drf) == {"Accept-Language", "Cookie"}
    assert {**plain.headers, "Vary": ""} == {**drf.headers, "Vary": ""}
    assert plain["X-Map-Groups"] == "sql" and "Content-Security-Policy" in plain


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_AUTHORIZATION": "Token not-a-token"}, 401),  # DRF's authentication still refuses it
        ({"HTTP_ACCEPT": "text/html"}, 406),  # and its negotiation: JSON only
    ],
)
def test_requests_the_drf_view_decides_still_get_its_answer(client, headers, status):
    response = client.get("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10}, **headers)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_other_methods_are_answered_by_the_drf_view(client):
    assert client.post("/api/pins/clusters/", {}).status_code == 405
    assert client.options("/api/pins/clusters/").status_code == 200
    assert client.head("/api/pins/clusters/", {"bbox": METROPOLE_BBOX, "zoom": 10}).status_code == 200


def test_the_route_is_documented_as_the_drf_view(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/pins/clusters/"]["get"]
    assert {"bbox", "zoom", "theme"} <= {p["name"] for p in operation["parameters"]}
    assert "X-Map-Groups" in operation["responses"]["200"]["headers"]
