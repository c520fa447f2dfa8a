"""The home page draws the metropolitan map from carto's own data (no pins API needed)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

COMMUNES_DRAWN = """() => new Promise((resolve) => {
  const map = window.cartoMap;
  const count = () => map.querySourceFeatures("communes").length;
  if (map.loaded() && count() > 0) return resolve(count());
  map.on("idle", () => { if (count() > 0) resolve(count()); });
})"""


def test_home_renders_a_maplibre_canvas_with_the_commune_outlines(phone, shot):
    page = phone().new_page()
    page.goto("/")
    page.wait_for_selector("canvas.maplibregl-canvas")
    page.wait_for_function("() => window.cartoMap !== undefined")
    assert page.evaluate(COMMUNES_DRAWN) > 0
    shot(page, "00-map")
