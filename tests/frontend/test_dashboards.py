"""The /compare/ and /heatmap/ pages in headless Chromium, on committed pins and the real territories."""

from __future__ import annotations

import pytest

from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 860}, "locale": "fr-FR"}


@pytest.fixture
def pins(committed_db):
    """Committed visible pins in Belleville (Paris) and Bondy, counted in the grid cells."""
    created = [make_pin(*BELLEVILLE) for _ in range(6)] + [
        make_pin(*BONDY, theme="logement") for _ in range(7)
    ]
    return created


@pytest.fixture
def desktop(browser, server):
    context = browser.new_context(**DESKTOP, base_url=server.url)
    yield context.new_page()
    context.close()


def test_compare_shows_a_table_bars_and_a_csv_link_for_the_chosen_territories(desktop, pins, shot):
    page = desktop
    page.goto("/compare/?territories=93010,75056")
    page.wait_for_selector("body[data-compared='2']")
    headers = page.locator("#table thead th").all_inner_texts()
    assert headers[1:] == ["Bondy", "Paris"]
    table = page.locator("#table").inner_text()
    assert "50 595" in table.replace("\u202f", " ").replace("\xa0", " ")  # Bondy's population
    assert page.locator("#bars .bar-row").count() >= 4  # two themes × two territories
    assert page.get_attribute("#csv", "href").startswith("blob:")
    # Adding a territory from the picker
    page.select_option("#territory", "93071")
    page.click("#picker button[type=submit]")
    page.wait_for_selector("body[data-compared='3']")
    shot(page, "compare")


def test_heatmap_draws_the_choropleth_of_the_130_communes_and_the_pin_heatmap(desktop, pins, shot):
    page = desktop
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/heatmap/")
    page.wait_for_selector("canvas.maplibregl-canvas")
    page.wait_for_selector("body[data-choropleth-features='130']", timeout=20000)
    page.wait_for_function("() => window.cartoHeatmap.loaded() && window.cartoHeatmap.areTilesLoaded()")
    drawn = page.evaluate(
        "() => new Set(window.cartoHeatmap.querySourceFeatures('choropleth').map(f => f.id)).size"
    )
    assert drawn == 130
    assert page.locator("#legend div").count() >= 2
    # Hovering Bondy names it with its count
    x, y = page.evaluate(
        "() => { const p = window.cartoHeatmap.project([2.483, 48.902]); return [p.x, p.y]; }"
    )
    box = page.locator("#heatmap").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.getElementById('hover').textContent.includes('Bondy')")
    assert "7 signalement" in page.inner_text("#hover")
    shot(page, "heatmap")
    page.select_option("#level", "ept")
    page.wait_for_selector("body[data-choropleth-features='12']")
    # Hexagons from the stored aggregates: Belleville's 6 and Bondy's 7 pins, drawn and hoverable.
    assert not page.is_visible("#hex-legend")
    page.check("#show-hex")
    page.wait_for_selector("body[data-hexagons]")
    assert page.locator("#hex-legend div").all_inner_texts()[0].startswith("Hexagones")
    page.wait_for_function("() => window.cartoHeatmap.loaded()")
    drawn = page.evaluate(
        "() => window.cartoHeatmap.querySourceFeatures('hexbins').map(f => f.properties.count)"
    )
    assert drawn and all(count == "<5" or count >= 5 for count in drawn)
    x, y = page.evaluate(
        "() => { const p = window.cartoHeatmap.project([2.483, 48.902]); return [p.x, p.y]; }"
    )
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.getElementById('hover').textContent.startsWith('Hexagone')")
    shot(page, "heatmap-hexagons")
    assert errors == []
