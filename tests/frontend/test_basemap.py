"""The street basemap: with CARTO_BASEMAP_PMTILES the resident's map reads the file in byte ranges and draws its
streets and their names under carto's own layers, credited to OpenStreetMap; without it, nothing is asked for."""

from __future__ import annotations

import pytest

from tests.basemaps import CENTRE, write_street_basemap
from tests.frontend.helpers import TILES_IDLE, open_map

pytestmark = pytest.mark.browser

BELLEVILLE_METRO = (2.3767, 48.8721)  # boulevard de Belleville: rail lines and stations of our own tiles
BASEMAP_LAYERS = "window.cartoMap.getStyle().layers.filter((l) => l.source === 'streets').map((l) => l.id)"


@pytest.fixture(scope="module")
def street_basemap(tmp_path_factory, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return write_street_basemap(tmp_path_factory.mktemp("basemap") / "streets.pmtiles")


def watch(page) -> dict:
    """The Range headers of the page's requests for the basemap file, its pmtiles script, its console errors."""
    seen = {"ranges": [], "pmtiles_script": False, "errors": []}

    def on_request(request):
        if request.url.endswith("/api/basemap.pmtiles"):
            seen["ranges"].append(request.headers.get("range"))
        if "/vendor/pmtiles/" in request.url:
            seen["pmtiles_script"] = True

    page.on("request", on_request)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    return seen


def test_with_a_basemap_the_streets_and_their_names_are_drawn_from_byte_ranges(
    phone, shot, settings, street_basemap
):
    settings.CARTO_BASEMAP_PMTILES = str(street_basemap)
    page = phone().new_page()
    seen = watch(page)
    page.goto("/")
    page.wait_for_function("() => window.cartoMap !== undefined && window.cartoMap.loaded()")
    page.evaluate(TILES_IDLE)
    # The whole Métropole (the first screen): only the file's header and root directory are read.
    assert seen["pmtiles_script"]
    assert seen["ranges"] and all(r and r.startswith("bytes=0-") for r in seen["ranges"]), seen["ranges"]
    page.evaluate(f"() => window.cartoMap.jumpTo({{center: [{CENTRE[0]}, {CENTRE[1]}], zoom: 16}})")
    page.evaluate(TILES_IDLE)
    shot(page, "map-z16-street-basemap")

    assert any(not r.startswith("bytes=0-") for r in seen["ranges"]), seen["ranges"]  # the tiles' ranges
    assert all(r and r.startswith("bytes=") for r in seen["ranges"]), seen["ranges"]
    x, y = page.evaluate(f"() => Object.values(window.cartoMap.project([{CENTRE[0]}, {CENTRE[1]}]))")
    roads = page.evaluate(
        f"() => window.cartoMap.queryRenderedFeatures([{x}, {y}], {{layers: ['streets-road']}})"
        ".map((f) => [f.sourceLayer, f.properties.class])"
    )
    assert ["transportation", "minor"] in roads
    names = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['streets-names']})"
        ".map((f) => f.properties.name || f.properties['name:latin'])"
    )
    assert {"Allée des Essais", "Route des Tests"} <= set(names)  # `name`, and tilemaker 2.2's `name:latin`
    # Under every layer of carto's own: outlines, orientation, pins.
    order = page.evaluate("() => window.cartoMap.getStyle().layers.map((l) => l.id)")
    streets = page.evaluate(f"() => {BASEMAP_LAYERS}")
    assert max(order.index(layer) for layer in streets) < order.index("communes-line") < order.index("pins")
    # OpenStreetMap credited with the other sources, behind the credits' (i) button as a finger opens it.
    page.locator(".maplibregl-ctrl-attrib-button").tap()
    credits = page.locator(".maplibregl-ctrl-attrib-inner")
    assert credits.is_visible()
    assert "© OpenStreetMap contributors" in credits.inner_text()
    assert not [e for e in seen["errors"] if "Content Security Policy" in e], seen["errors"]


def test_without_a_basemap_nothing_is_asked_for_and_the_orientation_layers_still_show(phone, settings):
    settings.CARTO_BASEMAP_PMTILES = ""
    page = phone().new_page()
    seen = watch(page)
    open_map(page, *BELLEVILLE_METRO, 14)

    assert seen["ranges"] == [] and not seen["pmtiles_script"]
    assert page.evaluate(f"() => {BASEMAP_LAYERS}") == []
    drawn = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['rail-lines', 'stations']}).map((f) => f.layer.id)"
    )
    assert {"rail-lines", "stations"} <= set(drawn)


def test_a_basemap_file_gone_leaves_the_map_with_its_own_layers(phone, settings, tmp_path, street_basemap):
    gone = tmp_path / "gone.pmtiles"
    gone.write_bytes(street_basemap.read_bytes())
    settings.CARTO_BASEMAP_PMTILES = str(gone)
    page = phone().new_page()
    page.goto("/")  # the page names the file…
    gone.unlink()  # …which is gone by the time the map asks for it: a 404
    page.wait_for_function("() => window.cartoMap !== undefined && window.cartoMap.loaded()")
    page.evaluate(
        f"() => window.cartoMap.jumpTo({{center: [{BELLEVILLE_METRO[0]}, {BELLEVILLE_METRO[1]}], zoom: 14}})"
    )
    page.evaluate(TILES_IDLE)
    drawn = page.evaluate("() => window.cartoMap.queryRenderedFeatures({layers: ['stations']}).length")
    assert drawn > 0
    assert (
        page.evaluate("() => window.cartoMap.queryRenderedFeatures({layers: ['streets-road']}).length") == 0
    )
