"""The quartiers on the resident's map, on a phone: their names, a tap inside one opens what is said there and
where else the same needs are voiced, a quartier picked in the search is framed and outlined.

Real Chromium, the live server's own API and tiles, the real QPV 2024 contours; pins made through the real
service and clustered by the real job worker.
"""

from __future__ import annotations

import re

import pytest

from carto.geo import to_api
from carto.models import PinCluster, Territory
from carto.services.supports import pin_support
from tests.factories import make_pin
from tests.frontend.helpers import TILES_IDLE, open_map
from tests.frontend.test_place_search import search_and_pick_the_first
from tests.frontend.test_resident_flow import open_home
from tests.jobs import jobs_done

pytestmark = pytest.mark.browser

PRINTING = "Pas d'endroit pour imprimer mes papiers CAF"
PHONE = "Ma mère ne sait pas utiliser son smartphone"
RUE_DE_BELLEVILLE = (2.3775, 48.8715)  # inside the QPV Grand Belleville (QN07519M)
GRAND_BELLEVILLE_HEART = (
    2.37976,
    48.87066,
)  # the centre of the largest circle inside it, 190 m from those pins
GOUTTE_DOR = (2.3560, 48.8850)  # rue Polonceau, Paris 18e, in the QPV Goutte d'Or (QN07511M)
MALASSIS = (2.4280, 48.8716)  # Bagnolet, in the QPV Le Plateau - Les Malassis - La Noue (QN09309M)
PICKED = "() => window.cartoMap.getFilter('qpv-picked')"


def tap_map_at(page, lon: float, lat: float) -> None:
    xy = page.evaluate(f"() => window.cartoMap.project([{lon}, {lat}])")
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + xy["x"], box["y"] + xy["y"])


def rendered_names(page) -> list[str]:
    return page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['qpv-names']}).map((f) => f.properties.name)"
    )


def quartier_ready(page):
    page.wait_for_function("() => window.cartoMap.getLayer('qpv-names') !== undefined")
    page.evaluate(TILES_IDLE)


def test_a_tap_inside_grand_belleville_shows_its_needs_and_where_else_they_are_voiced(phone, shot):
    printing = [make_pin(*RUE_DE_BELLEVILLE, text=PRINTING) for _ in range(5)]
    make_pin(*GOUTTE_DOR, text=PRINTING)
    make_pin(*MALASSIS, text="Nulle part pour imprimer mes papiers de la CAF")
    phone_pins = [make_pin(*RUE_DE_BELLEVILLE, theme="se-former", text=PHONE) for _ in range(2)]
    for n in range(6):
        pin_support(pin_id=phone_pins[0].pk, device_hash=f"neighbour-{n}")
    jobs_done()
    clusters = PinCluster.objects.filter(
        pin__text__in=[PRINTING, "Nulle part pour imprimer mes papiers de la CAF"]
    )
    assert len({c.cluster_id for c in clusters}) == 1, "the printing need is one cluster across 3 quartiers"
    qpv = Territory.objects.get(code="QN07519M")

    page = phone().new_page()
    open_map(page, *GRAND_BELLEVILLE_HEART, 15)
    quartier_ready(page)
    assert "Grand Belleville" in rendered_names(page)  # the quartier's name, written on the map
    tap_map_at(page, *GRAND_BELLEVILLE_HEART)
    page.wait_for_selector('#quartier:not([hidden])[data-code="QN07519M"][data-loaded="true"]')

    assert page.locator("#quartier-title").text_content() == "Grand Belleville"
    # Its arrondissements (a Paris quartier's commune is Paris; the 10e and 19e hold slivers of its outline).
    assert page.locator("#quartier-place").text_content() == "Quartier prioritaire · Paris 11e · Paris 20e"
    inhabitants = page.locator(".quartier-inhabitants").text_content()
    assert inhabitants.endswith("habitants") and int(re.sub(r"\D", "", inhabitants)) == qpv.population
    assert page.locator(".quartier-pins").text_content() == "7 signalements"
    assert page.locator(".quartier-metoo").text_content() == "«\u00a0Moi aussi\u00a0»\u00a0: 6 personnes"
    # Its needs, the most voiced first, each with its pictogram and where else it is said.
    needs = page.locator(".quartier-need")
    assert needs.count() == 2
    phone_need, printing_need = needs.nth(0), needs.nth(1)
    assert phone_need.locator(".quartier-need-label").text_content() == PHONE
    assert phone_need.locator(".quartier-need-here").text_content() == (
        "<5 signalements ici · «\u00a0Moi aussi\u00a0»\u00a0: 6 personnes".replace("<5", "\u2066<5\u2069")
    )
    assert phone_need.locator(".quartier-elsewhere").text_content() == "Dit seulement ici pour l'instant"
    assert phone_need.locator(".picto use").get_attribute("href").startswith("#picto-")
    assert printing_need.locator(".quartier-need-here").text_content() == "5 signalements ici"
    assert (
        printing_need.locator(".quartier-elsewhere").text_content()
        == "Aussi dit dans 2 autres quartiers et 1 autre commune"
    )
    # The quartier tapped is outlined, and in sight above its sheet.
    assert page.evaluate(PICKED) == ["==", ["get", "code"], "QN07519M"]
    page.wait_for_function(
        f"""() => !window.cartoMap.isMoving() && window.cartoMap.project({list(GRAND_BELLEVILLE_HEART)}).y
          < document.querySelector('#quartier').getBoundingClientRect().top"""
    )
    page.evaluate(TILES_IDLE)
    shot(page, "quartier-sheet-grand-belleville")
    printing_need.scroll_into_view_if_needed()
    shot(page, "quartier-sheet-grand-belleville-needs")

    # "Ajouter ici": the pin flow opens with its centre pin where the resident tapped, in the quartier.
    page.locator("#quartier-add").tap()
    page.wait_for_selector('#flow:not([hidden])[data-current="where"]')
    assert page.locator("#quartier").is_hidden()
    lon, lat = page.evaluate("() => window.cartoMap.getCenter().toArray()")
    assert abs(lon - GRAND_BELLEVILLE_HEART[0]) < 1e-4 and abs(lat - GRAND_BELLEVILLE_HEART[1]) < 1e-4
    page.wait_for_function(
        "() => document.querySelector('#place-near').textContent.includes('QPV Grand Belleville')"
    )
    # While a pin is being placed, a tap on the map opens nothing.
    tap_map_at(page, *GRAND_BELLEVILLE_HEART)
    page.wait_for_timeout(300)
    assert page.locator("#quartier").is_hidden()

    # Back on the map, a tap on a pin opens the pin's card, not the quartier's sheet.
    page.locator('#flow [data-action="cancel"]').tap()
    pin = to_api(printing[0].public_location)
    page.evaluate(f"() => window.cartoMap.jumpTo({{center: [{pin.x}, {pin.y}]}})")
    page.wait_for_function(
        f"() => window.cartoMap.queryRenderedFeatures({{layers: ['pins']}}).some((f) => f.properties.id === {printing[0].id})"
    )
    tap_map_at(page, pin.x, pin.y)
    page.wait_for_selector(f'#card:not([hidden])[data-pin-id="{printing[0].id}"]')
    assert page.locator("#quartier").is_hidden()


def test_a_quartier_picked_in_the_search_is_framed_and_outlined(phone, shot):
    page = phone().new_page()
    open_home(page)
    page.wait_for_function("() => window.cartoMap.getLayer('qpv-picked') !== undefined")
    page.locator("#add").tap()
    page.locator("#place-search").focus()
    search_and_pick_the_first(page, "Goutte d'Or")
    assert page.evaluate(PICKED) == ["==", ["get", "code"], "QN07511M"]
    page.evaluate(TILES_IDLE)
    outline = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['qpv-picked']}).map((f) => f.properties.code)"
    )
    assert set(outline) == {"QN07511M"}
    # Framed: the whole quartier is on the screen.
    west, south, east, north = (
        Territory.objects.get(code="QN07511M").geometry.transform(4326, clone=True).extent
    )
    bounds = page.evaluate("() => window.cartoMap.getBounds().toArray().flat()")
    assert bounds[0] <= west and bounds[1] <= south and bounds[2] >= east and bounds[3] >= north
    shot(page, "quartier-search-goutte-dor")
    # Another kind of place clears the outline.
    search_and_pick_the_first(page, "Montreuil")
    assert page.evaluate(PICKED) == ["==", ["get", "code"], ""]

    # Without pinning anything: the bar's magnifier finds the quartier and opens its sheet, the quartier
    # framed whole between the bar and the sheet.
    page.locator('#flow [data-action="cancel"]').tap()
    assert page.locator("#find-open").get_attribute("aria-label") == "Chercher sur la carte"
    page.locator("#find-open").tap()
    assert page.evaluate("() => document.activeElement.id") == "find-search"
    search_and_pick_the_first(page, "Goutte d'Or", box_id="find-search", list_id="find-results")
    page.wait_for_selector('#quartier:not([hidden])[data-code="QN07511M"][data-loaded="true"]')
    assert page.locator("#find").is_hidden()
    assert page.evaluate(PICKED) == ["==", ["get", "code"], "QN07511M"]
    page.wait_for_function("() => !window.cartoMap.isMoving()")
    page.evaluate(TILES_IDLE)
    top = page.locator(".bar").bounding_box()
    sheet = page.locator("#quartier").bounding_box()
    corners = page.evaluate(
        f"() => [[{west}, {north}], [{east}, {south}]].map((c) => window.cartoMap.project(c))"
    )
    assert corners[0]["y"] >= top["y"] + top["height"] - 1 and corners[1]["y"] <= sheet["y"] + 1
    assert corners[0]["x"] >= 0 and corners[1]["x"] <= 360
    shot(page, "quartier-found-goutte-dor")


def test_the_sheet_speaks_arabic_right_to_left_and_keeps_small_counts_readable(phone, shot):
    [make_pin(*GOUTTE_DOR, text=PRINTING) for _ in range(2)]
    jobs_done()
    page = phone(locale="ar").new_page()
    heart = (2.35197, 48.88534)  # the centre of the largest circle inside the Goutte d'Or
    open_map(page, *heart, 15)
    quartier_ready(page)
    tap_map_at(page, *heart)
    page.wait_for_selector('#quartier:not([hidden])[data-code="QN07511M"][data-loaded="true"]')
    assert page.evaluate("() => document.documentElement.dir") == "rtl"
    assert page.locator("#quartier-needs-title").text_content() == "ما يقال هنا"
    assert (
        page.locator(".quartier-pins").text_content() == "\u2066<5\u2069 بلاغات"
    )  # the plural form of a few
    # Drawn "<5", not mirrored into "5>" by the right-to-left line: the "<" left of the "5".
    left = page.evaluate(
        """() => [1, 2].map((i) => {
          const range = document.createRange();
          const text = document.querySelector(".quartier-pins span").firstChild;
          range.setStart(text, i);
          range.setEnd(text, i + 1);
          return range.getBoundingClientRect().left;
        })"""
    )
    assert left[0] < left[1]
    assert page.locator(".quartier-elsewhere").text_content() == "قيل هنا فقط حتى الآن"
    assert page.locator("#quartier-add").text_content() == "أضف هنا"
    shot(page, "quartier-sheet-arabic")
    # The language switched while the sheet is open: the sheet says it again in the new language.
    page.locator("#lang").select_option("en")
    page.wait_for_function(
        "() => document.querySelector('.quartier-elsewhere').textContent === 'Only said here so far'"
    )
    assert page.locator(".quartier-pins").text_content() == "\u2066<5\u2069 pins"
    assert page.locator("#quartier-place").text_content() == "Priority neighbourhood · Paris 18e"
