"""What the browser tests do on the resident's page: wait for the map, open it somewhere, tap a pin."""

from __future__ import annotations

from carto.geo import to_api

# The map has drawn what it shows (its tiles included).
TILES_IDLE = """() => new Promise((resolve) => {
  const map = window.cartoMap;
  if (map.loaded() && map.areTilesLoaded()) return resolve(true);
  map.once("idle", () => resolve(true));
})"""
# The map has drawn the commune outlines (what the flow's "where" step reads).
MAP_IDLE = """() => new Promise((resolve) => {
  const map = window.cartoMap;
  if (map.loaded() && map.querySourceFeatures("communes").length) return resolve(true);
  map.once("idle", () => resolve(true));
})"""
# How many pins wait in this phone's outbox (queue.js).
QUEUE_LENGTH = """() => new Promise((resolve) => {
  const open = indexedDB.open("carto", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "client_uuid" });
  open.onsuccess = () => {
    const count = open.result.transaction("outbox").objectStore("outbox").count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); };
  };
})"""


def open_home(page, path: str = "/") -> None:
    page.goto(path)
    page.wait_for_function("() => window.cartoMap !== undefined")
    page.evaluate(MAP_IDLE)


def open_map(page, lon: float, lat: float, zoom: float) -> None:
    page.goto("/")
    page.wait_for_function("() => window.cartoMap !== undefined && window.cartoMap.loaded()")
    page.evaluate(f"() => window.cartoMap.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    page.evaluate(TILES_IDLE)


def tap_pin(page, pin) -> None:
    """Open the map on the pin at z16 and tap its circle, as a finger would; its card opens."""
    point = to_api(pin.public_location)
    open_map(page, point.x, point.y, 16)
    page.wait_for_function(
        f"() => window.cartoMap.queryRenderedFeatures({{layers: ['pins']}}).some((f) => f.properties.id === {pin.id})"
    )
    xy = page.evaluate(f"() => window.cartoMap.project([{point.x}, {point.y}])")
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + xy["x"], box["y"] + xy["y"])
    page.wait_for_selector(f'#card:not([hidden])[data-pin-id="{pin.id}"]')
