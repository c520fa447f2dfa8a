// The metropolitan map, drawn from carto's own data: no external tiles unless CARTO_BASEMAP_URL is set.
// Pins come from the vector tiles /api/tiles/pins/{z}/{x}/{y}.mvt (one source, one source-layer "pins"):
// z ≥ 13 one feature per pin (id, kind, theme, status, support_count), z ≤ 12 one feature per grid cell
// carrying only `count`. The browser fetches only the tiles it shows and never pages a bbox GeoJSON.
import { onSettled } from "./queue.js";

export const METROPOLE_BOUNDS = [[2.14, 48.64], [2.62, 49.02]];
export const PIN_LAYER = "pins"; // source-layer name written by carto/sql/tiles.py
export const POINTS_MIN_ZOOM = 13; // below this the tiles hold aggregated cells (carto.stats.grid)
const PINS_MAX_TILE_ZOOM = 14; // deeper zooms reuse (overzoom) the z14 tiles: same points, fewer requests
// Orientation without a street basemap (carto/sql/orientation_tiles.py): rail lines and QPV outlines from
// z10, stations from z12, their names in the z14 tiles (overzoomed deeper).
const ORIENTATION_MIN_ZOOM = 10;
const STATION_NAMES_MIN_ZOOM = 14;

// `v` only changes the URL (so the browser's HTTP cache is bypassed) after this phone wrote a pin.
const pinTiles = (v) => `${location.origin}/api/tiles/pins/{z}/{x}/{y}.mvt${v ? `?v=${v}` : ""}`;

export function baseStyle(basemapUrl) {
  const style = {
    version: 8,
    sources: {
      communes: { type: "geojson", data: "/api/territories/?kind=commune" },
      ept: { type: "geojson", data: "/api/territories/?kind=ept" },
      arrondissements: { type: "geojson", data: "/api/territories/?kind=arrondissement" },
      actors: { type: "geojson", data: "/api/actors/?mgp=true&bbox=2.14,48.64,2.62,49.02" },
      pins: { type: "vector", tiles: [pinTiles()], minzoom: 0, maxzoom: PINS_MAX_TILE_ZOOM },
      orientation: { type: "vector", tiles: [`${location.origin}/api/tiles/orientation/{z}/{x}/{y}.mvt`],
        minzoom: ORIENTATION_MIN_ZOOM, maxzoom: 14 },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } },
      { id: "communes-fill", type: "fill", source: "communes", paint: { "fill-color": "#ffffff", "fill-opacity": 0.7 } },
      { id: "arrondissements-line", type: "line", source: "arrondissements",
        paint: { "line-color": "#9a9a9a", "line-width": 0.6, "line-dasharray": [2, 2] } },
      { id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#8a8a8a", "line-width": 0.8 } },
      { id: "ept-line", type: "line", source: "ept", paint: { "line-color": "#3d3d6b", "line-width": 2 } },
      // Under the pins: QPV outlines dashed, the lines in their official colours, the stations and their names.
      { id: "qpv-outline", type: "line", source: "orientation", "source-layer": "qpv",
        paint: { "line-color": "#8c2f6b", "line-width": 1.4, "line-dasharray": [3, 2] } },
      { id: "rail-lines", type: "line", source: "orientation", "source-layer": "rail_lines",
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["get", "colour"], "line-opacity": ["match", ["get", "mode"], "TER", 0.5, 0.9],
          "line-width": ["interpolate", ["linear"], ["zoom"], 10, ["match", ["get", "mode"], ["METRO", "RER", "TRAMWAY"], 1.5, 0.8],
            14, ["match", ["get", "mode"], ["METRO", "RER", "TRAMWAY"], 3, 1.5], 17, 5] } },
      { id: "stations", type: "circle", source: "orientation", "source-layer": "stations",
        paint: { "circle-color": "#ffffff", "circle-stroke-color": ["get", "colour"], "circle-stroke-width": 2,
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 16, 5] } },
      { id: "station-names", type: "symbol", source: "orientation", "source-layer": "stations",
        minzoom: STATION_NAMES_MIN_ZOOM,
        // No glyph server: MapLibre draws the letters with the browser's own sans-serif font.
        layout: { "text-field": ["get", "name"], "text-font": ["sans-serif"], "text-size": 12,
          "text-anchor": "top", "text-offset": [0, 0.7], "text-max-width": 8 },
        paint: { "text-color": "#1b1b1b", "text-halo-color": "#ffffff", "text-halo-width": 1.5 } },
      { id: "actors", type: "circle", source: "actors", layout: { visibility: "none" },
        paint: { "circle-radius": 5, "circle-color": "#00707f", "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
      // Low zooms: one circle per grid cell, its area growing with the number of pins in the cell.
      { id: "pin-cells", type: "circle", source: "pins", "source-layer": PIN_LAYER, maxzoom: POINTS_MIN_ZOOM,
        filter: ["!", ["has", "id"]],
        paint: { "circle-color": "#3d3d6b", "circle-opacity": 0.8, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
          "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 6, 4, 11, 10, 17, 30, 28, 100, 40] } },
      // z ≥ 13: one circle per pin, coloured by theme (colourPins), a need filled and a proposal a ring.
      { id: "pins", type: "circle", source: "pins", "source-layer": PIN_LAYER, minzoom: POINTS_MIN_ZOOM,
        filter: ["has", "id"],
        paint: { "circle-color": "#555", "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 6, 16, 9, 18, 11] } },
    ],
  };
  if (basemapUrl) {
    style.sources.basemap = { type: "raster", tiles: [basemapUrl], tileSize: 256 };
    style.layers.splice(1, 0, { id: "basemap", type: "raster", source: "basemap" });
  }
  return style;
}

export function createMap(container) {
  const map = new maplibregl.Map({
    container,
    style: baseStyle(container.dataset.basemapUrl),
    bounds: METROPOLE_BOUNDS,
    dragRotate: false,
    attributionControl: { customAttribution: "Etalab / IGN, INSEE, ANCT — Licence Ouverte · Île-de-France Mobilités — ODbL" },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  // The pins source has a single source-layer: let querySourceFeatures("pins") name it by default.
  const querySourceFeatures = map.querySourceFeatures.bind(map);
  map.querySourceFeatures = (source, params) =>
    querySourceFeatures(source, source === "pins" ? { sourceLayer: PIN_LAYER, ...params } : params);
  // A pin this phone just sent (possibly from the offline queue) shows without waiting for the tiles' max-age.
  onSettled((outcome) => { if (outcome.ok) refreshPins(map); });
  window.cartoMap = map; // for tests and debugging
  return map;
}

// Pins coloured by their theme (a need's circle is filled, a proposal's is a ring).
export function colourPins(map, themes) {
  const leaves = themes.filter((t) => t.parent);
  if (!leaves.length) return; // themes not loaded (offline first visit): keep the grey default
  const match = ["match", ["get", "theme"]];
  for (const theme of leaves) match.push(theme.slug, theme.color);
  match.push("#555");
  map.setPaintProperty("pins", "circle-color", ["case", ["==", ["get", "kind"], "proposal"], "#ffffff", match]);
  map.setPaintProperty("pins", "circle-stroke-color", ["case", ["==", ["get", "kind"], "proposal"], match, "#ffffff"]);
  map.setPaintProperty("pins", "circle-stroke-width", ["case", ["==", ["get", "kind"], "proposal"], 4, 2]);
}

// Kept for the page's "moveend" hook: tiles load themselves, and aggregated cells mean never "too many pins".
export function loadPins(map, onTooMany) {
  if (onTooMany) onTooMany(false);
}

// Fetch the pin tiles again (after a write: the server's tile cache is keyed by a version bumped on writes).
export function refreshPins(map) {
  const source = map.getSource("pins");
  if (source && source.setTiles) source.setTiles([pinTiles(Date.now().toString(36))]);
}

export function setActorsVisible(map, visible) {
  map.setLayoutProperty("actors", "visibility", visible ? "visible" : "none");
}

// The commune under a point, from the outlines already drawn (works offline once they are loaded).
export function communeAt(map, lngLat) {
  const point = map.project(lngLat);
  const hit = map.queryRenderedFeatures(point, { layers: ["communes-fill"] })[0];
  return hit ? hit.properties.name : "";
}
