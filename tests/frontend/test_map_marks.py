"""A map a resident can read: grouped dots with their count, a theme's pictogram at street zoom, help places
with their own mark, a legend, and zoom buttons that cannot be taken for the add button."""

from __future__ import annotations

import pytest

from carto.actor_places import normal_case
from carto.geo import to_api
from tests.factories import BELLEVILLE, make_pin
from tests.frontend.helpers import TILES_IDLE, open_map

pytestmark = pytest.mark.browser


def test_grouped_dots_show_how_many_pins_they_hold(phone, shot):
    pins = [make_pin(*BELLEVILLE, text=f"Besoin numéro {n} dans le quartier") for n in range(3)]
    point = to_api(pins[0].public_location)
    page = phone().new_page()
    open_map(page, point.x, point.y, 11)

    cells = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['pin-cells']}).map((f) => f.properties.count)"
    )
    counts = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['pin-cell-counts']}).map((f) => f.properties.count)"
    )
    assert sum(cells) >= 3
    # Every grouped dot has its number written on it, and the number is its count.
    assert sorted(counts) == sorted(cells)
    text_field = page.evaluate("() => window.cartoMap.getLayoutProperty('pin-cell-counts', 'text-field')")
    assert ["to-string", ["get", "count"]] in text_field
    shot(page, "map-grouped-dots-counts")


def test_at_street_zoom_a_pin_shows_its_themes_pictogram(phone, shot):
    need = make_pin(*BELLEVILLE, theme="logement", text="L'ascenseur est en panne")
    point = to_api(need.public_location)
    page = phone().new_page()
    open_map(page, point.x, point.y, 17)

    # The pictograms are map images, white on a need's circle, in the theme's colour on a proposal's ring.
    page.wait_for_function(
        "() => window.cartoMap.hasImage('picto-need-logement') && window.cartoMap.hasImage('picto-proposal-logement')"
    )
    page.evaluate(TILES_IDLE)
    page.wait_for_function(
        f"() => window.cartoMap.queryRenderedFeatures({{layers: ['pin-pictos']}}).some((f) => f.properties.id === {need.id})"
    )
    assert page.evaluate("() => window.cartoMap.getLayer('pin-pictos').type") == "symbol"
    assert page.evaluate("() => window.cartoMap.getLayoutProperty('pin-pictos', 'icon-image')") == [
        "concat", "picto-", ["get", "kind"], "-", ["get", "theme"],
    ]  # fmt: skip
    # Below street zoom the pin is a plain dot again.
    assert page.evaluate("() => window.cartoMap.getLayer('pin-pictos').minzoom") == 16
    shot(page, "map-street-zoom-pictogram")


def test_help_places_have_their_own_mark_and_the_legend_names_every_mark(phone, shot):
    page = phone().new_page()
    asked = []  # only watched: the page's requests for the help places
    page.on("request", lambda r: asked.append(r.url) if "/api/actors/" in r.url else None)
    open_map(page, 2.3815, 48.8705, 15)  # 18 rue Bisson, Paris 20e: Belleville Citoyenne
    assert asked == [], "the help places are not loaded while their layer is hidden"
    page.locator("#actors-toggle").tap()
    page.wait_for_function("() => window.cartoMap.getLayoutProperty('actors', 'visibility') === 'visible'")
    page.evaluate(TILES_IDLE)
    assert page.evaluate("() => window.cartoMap.getLayer('actors').type") == "symbol"
    assert page.evaluate("() => window.cartoMap.getLayoutProperty('actors', 'icon-image')") == "help-place"
    assert page.evaluate("() => window.cartoMap.hasImage('help-place')")
    page.wait_for_function("() => window.cartoMap.queryRenderedFeatures({layers: ['actors']}).length > 0")
    assert len(asked) == 1
    # One mark per place, its name in normal case, as the card lists them.
    drawn = page.evaluate(
        "() => window.cartoMap.querySourceFeatures('actors').map((f) => [f.properties.id, f.properties.name])"
    )
    names = {name for _, name in drawn}
    assert "Belleville Citoyenne Maison du Numérique" in names
    assert "ASSOCIATION BELLEVILLE CITOYENNE" not in names
    assert not [n for n in names if normal_case(n) != n]  # capitals only for an acronym (CASVP, AA92)

    legend = page.locator("#legend")
    legend.locator("summary").tap()
    entries = legend.locator(".legend-item")
    assert [e.get_attribute("data-entry") for e in entries.all()] == [
        "need", "proposal", "group", "help", "qpv", "station",
    ]  # fmt: skip
    assert (
        legend.locator('[data-entry="group"]').text_content()
        == "12Plusieurs points et leur nombre : touchez pour zoomer"
    )
    assert legend.locator('[data-entry="help"] canvas').count() == 1  # the map's own mark, drawn the same way
    shot(page, "map-legend-help-places")

    page.locator("#lang").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert legend.locator("summary").text_content() == "Map key"
    assert legend.locator('[data-entry="help"]').text_content() == "Help place (“Help places” button)"


def test_the_zoom_buttons_are_not_the_add_button(phone, shot):
    page = phone().new_page()
    open_map(page, 2.35, 48.86, 11)
    zoom_in = page.locator(".maplibregl-ctrl-zoom-in")
    zoom_out = page.locator(".maplibregl-ctrl-zoom-out")
    add = page.locator("#add")
    assert zoom_in.get_attribute("aria-label") == "Zoom avant"
    assert zoom_out.get_attribute("aria-label") == "Zoom arrière"
    # The add button says what it does in words, and its accessible name holds them.
    assert add.inner_text().strip() == "Ajouter"
    assert add.get_attribute("aria-label") == "Ajouter un besoin ou une idée"
    assert add.locator('svg[data-icon="add"]').count() == 1
    # Different places and shapes: the zoom buttons small squares at the top, the add button a wide pill below.
    zin, zout, plus = zoom_in.bounding_box(), zoom_out.bounding_box(), add.bounding_box()
    assert zout["y"] + zout["height"] < 740 / 3 < plus["y"]
    assert plus["width"] > 2.5 * zin["width"]
    assert plus["width"] > 1.5 * plus["height"]
    shot(page, "map-zoom-and-add")

    page.locator("#lang").select_option("ar")
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")
    assert zoom_in.get_attribute("aria-label") == "تكبير"
    assert add.inner_text().strip() == "أضف"
