"""The "where" step on a phone: find a place at any zoom with the keyboard, see what is near the centre pin.

Everything comes from the live test server's own API (/api/places/, /api/places/near/, the orientation
tiles); only the phone's position (the outside world) is faked.
"""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction

from carto.models import PlaceName, Street, Territory
from carto.services.places import place_names_rebuild, places_near, streets_load
from tests.basemaps import STREETS, write_street_basemap
from tests.frontend.test_resident_flow import open_home, place_map

pytestmark = pytest.mark.browser

HOTEL_DE_VILLE = (2.3522, 48.8566)  # Paris 4e, far from both places searched below
RUE_DE_BELLEVILLE = (2.3775, 48.8715)  # in the QPV Grand Belleville, 90 m from the metro
OPTIONS = '#place-results [role="option"]'
IDLE = """() => new Promise((resolve) => {
  const map = window.cartoMap;
  if (map.loaded() && map.areTilesLoaded()) return resolve(true);
  map.once("idle", () => resolve(true));
})"""
# What each orientation layer draws on screen: station names, line labels, QPV names.
RENDERED = """() => {
  const map = window.cartoMap;
  const names = (layer, key) => map.queryRenderedFeatures({layers: [layer]}).map((f) => f.properties[key]);
  return {"station-names": names("station-names", "name"), "rail-lines": names("rail-lines", "label"),
          "qpv-outline": names("qpv-outline", "name")};
}"""


@pytest.fixture(scope="module")
def street_basemap(tmp_path_factory, django_db_setup, django_db_blocker):
    """The test basemap's streets imported and committed (the live server reads them); removed after."""
    with django_db_blocker.unblock():
        path = write_street_basemap(tmp_path_factory.mktemp("basemap") / "streets.pmtiles")
        streets_load(path=path)
        yield path
        with transaction.atomic():
            PlaceName.objects.filter(kind="street").delete()
            Street.objects.all().delete()
            place_names_rebuild()


def centre(page) -> Point:
    lon, lat = page.evaluate("() => window.cartoMap.getCenter().toArray()")
    return Point(lon, lat, srid=4326)


def inside(code: str, point: Point) -> bool:
    return Territory.objects.get(code=code).geometry.transform(4326, clone=True).contains(point)


def search_and_pick_the_first(
    page, text: str, box_id: str = "place-search", list_id: str = "place-results"
) -> None:
    """Type like a person (one key at a time), wait for the list, ↓ then Enter (the "where" step's search, or
    the map's own with its ids)."""
    box = page.locator(f"#{box_id}")
    box.fill("")
    box.press_sequentially(text, delay=40)
    page.wait_for_function(
        """([text, box, list]) => {
          const first = document.querySelector(`#${list} [role="option"]`);
          return first && document.getElementById(box).getAttribute("aria-expanded") === "true"
            && first.textContent.length > 0 && document.getElementById(list).dataset.query === text;
        }""",
        arg=[text, box_id, list_id],
    )
    page.keyboard.press("ArrowDown")
    first = page.locator(f'#{list_id} [role="option"]').first
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#{list_id}", state="hidden")
    assert box.get_attribute("aria-expanded") == "false"


def near_line_settled(page) -> str:
    """The near line once it names what the map's centre now is (it follows each move of the map)."""
    lon, lat = page.evaluate("() => window.cartoMap.getCenter().toArray()")
    expected = places_near(location=Point(lon, lat, srid=4326))
    assert expected.station is not None
    page.wait_for_function(
        "(label) => { const line = document.querySelector('#place-near');"
        " return !line.hidden && line.textContent.includes(label); }",
        arg=expected.station.label,
    )
    return page.locator("#place-near").inner_text()


def test_a_resident_finds_paris_20e_then_montreuil_with_the_keyboard_at_zoom_16(phone, shot):
    page = phone().new_page()
    open_home(page)
    page.locator("#add").tap()
    # Zoomed in on one street of the 4e: neither place is on the loaded map, the search asks the API.
    place_map(page, *HOTEL_DE_VILLE, zoom=16)
    box = page.locator("#place-search")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-controls") == "place-results"
    assert page.locator("#place-results").get_attribute("role") == "listbox"
    box.focus()

    search_and_pick_the_first(page, "Paris 20e")
    assert box.input_value() == "Paris 20e Arrondissement"
    assert inside("75120", centre(page))
    line = near_line_settled(page)
    assert line.startswith("près de ")
    page.evaluate(IDLE)
    shot(page, "where-search-paris-20e")

    search_and_pick_the_first(page, "Montreuil")
    assert box.input_value() == "Montreuil"
    assert inside("93048", centre(page))
    assert not inside("75120", centre(page))
    assert near_line_settled(page).startswith("près de ")
    # The status line tells a screen reader where the map went.
    assert "Montreuil (93)" in page.locator("#place-status").text_content()
    page.evaluate(IDLE)
    shot(page, "where-search-montreuil")


def test_a_resident_types_a_street_name_and_the_map_centres_on_the_street_at_zoom_17(
    phone, shot, settings, street_basemap
):
    settings.CARTO_BASEMAP_PMTILES = str(street_basemap)  # the streets drawn under the pin, as in production
    page = phone().new_page()
    open_home(page)
    page.locator("#add").tap()
    # The search says it finds streets (only when the operator's basemap brings them).
    assert (
        page.locator("#place-search-label").inner_text()
        == "Ou cherchez une rue, une ville, un quartier, une gare"
    )
    place_map(page, *HOTEL_DE_VILLE, zoom=16)
    box = page.locator("#place-search")
    box.focus()
    # Homonyms are told apart by their commune or arrondissement, each named as a street.
    box.press_sequentially("allee des essais", delay=40)
    # The answer to the whole text, not to a prefix typed on the way (a loaded machine answers those late).
    page.wait_for_selector('#place-results[data-query="allee des essais"] [role="option"]')
    labels = page.locator("#place-results .place-label").all_inner_texts()
    kinds = page.locator("#place-results .place-kind").all_inner_texts()
    assert set(labels[:2]) == {"Allée des Essais · Paris 16e", "Allée des Essais · Boulogne-Billancourt"}
    assert kinds[:2] == ["Rue", "Rue"]

    search_and_pick_the_first(page, "rte des tests")  # an abbreviation, no capitals
    assert box.input_value() == "Route des Tests"
    assert page.evaluate("() => window.cartoMap.getZoom()") == 17
    route = GEOSGeometry(f"SRID=4326;{STREETS[1]['wkt']}").transform(2154, clone=True)
    assert route.distance(centre(page).transform(2154, clone=True)) < 2  # the centre pin is on the street
    assert "Route des Tests · Paris 16e" in page.locator("#place-status").text_content()
    page.evaluate(IDLE)
    shot(page, "where-search-street")


def test_the_list_names_each_kind_and_escape_closes_it(phone):
    page = phone().new_page()
    open_home(page)
    page.locator("#add").tap()
    box = page.locator("#place-search")
    box.focus()
    assert "rue" not in page.locator("#place-search-label").inner_text()  # no basemap here: no streets
    box.press_sequentially("Belleville", delay=40)
    page.wait_for_selector('#place-results[data-query="Belleville"] [role="option"]')
    options = page.locator(OPTIONS).all_inner_texts()
    assert options[0].startswith("Belleville · M2 M11") and "Gare, station" in options[0]
    assert any(o.startswith("Grand Belleville") and "Quartier prioritaire" in o for o in options)
    page.keyboard.press("Escape")
    page.wait_for_selector("#place-results", state="hidden")
    assert box.get_attribute("aria-expanded") == "false"


def test_my_position_shows_the_nearest_station_and_the_qpv(browser, server, committed_db, shot):
    lon, lat = RUE_DE_BELLEVILLE
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        locale="fr-FR",
        base_url=server.url,
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        open_home(page)
        page.locator("#add").tap()
        page.locator("#locate").tap()
        page.wait_for_function(
            "() => document.querySelector('#place-near').textContent"
            " === 'près de Belleville · M2 M11 · QPV Grand Belleville'"
        )
        assert page.evaluate("() => window.cartoMap.getZoom()") == 16
        page.evaluate(IDLE)
        shot(page, "where-my-position-belleville")
        # The orientation layers around: the station named, its lines in their colours, the QPV outline.
        drawn = page.evaluate(RENDERED)
        assert "Belleville" in drawn["station-names"]
        assert {"M2", "M11"} <= set(drawn["rail-lines"])
        assert "Grand Belleville" in drawn["qpv-outline"]
        colour = page.evaluate(
            "() => window.cartoMap.queryRenderedFeatures({layers: ['rail-lines']})"
            ".find((f) => f.properties.label === 'M2').properties.colour"
        )
        assert colour == "#0055c8"
    finally:
        context.close()


def test_the_rail_lines_and_qpv_outlines_are_drawn_under_the_pins(phone):
    page = phone().new_page()
    open_home(page)
    order = page.evaluate("() => window.cartoMap.getStyle().layers.map((l) => l.id)")
    for layer in ("qpv-outline", "rail-lines", "stations", "station-names"):
        assert order.index(layer) < order.index("pin-cells") < order.index("pins")
