"""The resident's map draws pins from the vector tiles: pins at z ≥ 13, aggregated cells sized by count below."""

from __future__ import annotations

import pytest

from carto.geo import to_api
from tests.factories import BELLEVILLE, make_pin
from tests.frontend.helpers import open_map

pytestmark = pytest.mark.browser


def lon_lat(pin) -> tuple[float, float]:
    point = to_api(pin.public_location)
    return point.x, point.y


def test_a_pin_in_the_database_is_a_rendered_tile_feature_at_z14(phone, shot):
    pin = make_pin(*BELLEVILLE)
    lon, lat = lon_lat(pin)
    page = phone().new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    open_map(page, lon, lat, 14)

    assert page.evaluate("() => window.cartoMap.getSource('pins').type") == "vector"
    rendered = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['pins']}).map((f) => f.properties)"
    )
    mine = [p for p in rendered if p["id"] == pin.id]
    assert mine, rendered
    assert mine[0]["theme"] == "acceder-droits"
    assert mine[0]["kind"] == "need"
    assert set(mine[0]) <= {"id", "kind", "theme", "status", "support_count", "count"}  # public fields only
    # Drawn from the tiles, never by paging the bbox GeoJSON.
    assert any("/api/tiles/pins/14/" in url for url in requests)
    assert not any("/api/pins/?bbox" in url for url in requests)
    # Coloured by its theme (filled circle of the theme's colour for a need).
    assert "acceder-droits" in str(
        page.evaluate("() => window.cartoMap.getPaintProperty('pins', 'circle-color')")
    )
    shot(page, "map-z14-tile-pin")


def test_at_low_zoom_the_tiles_hold_cells_sized_by_their_count(phone, shot):
    pins = [make_pin(*BELLEVILLE) for _ in range(4)]
    lon, lat = lon_lat(pins[0])
    page = phone().new_page()
    open_map(page, lon, lat, 11)

    assert page.evaluate("() => window.cartoMap.queryRenderedFeatures({layers: ['pins']}).length") == 0
    cells = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['pin-cells']}).map((f) => f.properties)"
    )
    assert cells and all("id" not in c and c["count"] >= 1 for c in cells)
    assert max(c["count"] for c in cells) <= 4
    assert sum(c["count"] for c in cells) >= 4
    shot(page, "map-z11-cells")

    # Tapping a cell zooms in, towards its pins.
    point = page.evaluate(f"() => window.cartoMap.project([{lon}, {lat}])")
    hit = page.evaluate(
        f"() => window.cartoMap.queryRenderedFeatures([{point['x']}, {point['y']}], {{layers: ['pin-cells']}})"
        ".map((f) => f.geometry.coordinates)"
    )
    if hit:  # the blur may put the cell's centroid a little away from the first pin
        cx, cy = page.evaluate(f"() => window.cartoMap.project({hit[0]})").values()
        box = page.locator("#map").bounding_box()
        page.touchscreen.tap(box["x"] + cx, box["y"] + cy)
        page.wait_for_function("() => window.cartoMap.getZoom() >= 13 && !window.cartoMap.isMoving()")


def test_an_empty_pin_tile_is_a_valid_empty_answer(client, db):
    """Also puts a `db` test in any run of this module, so pytest-django sets up the test database (the
    browser tests only use committed_db, which pytest-django does not count as needing one)."""
    response = client.get("/api/tiles/pins/14/8300/5634.mvt")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
