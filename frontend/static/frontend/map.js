// The metropolitan map, drawn from carto's own data: no external tiles unless CARTO_BASEMAP_URL is set, streets
// from the server's own PMTiles file when CARTO_BASEMAP_PMTILES is (basemap.js); its legend,
// and the page's own pictograms (outcomes, statuses, buttons, help places) that its marks share with the sheets.
// Pins come from the vector tiles /api/tiles/pins/{z}/{x}/{y}.mvt (one source, one source-layer "pins"):
// z ≥ 13 one feature per pin (id, kind, theme, status, support_count), z ≤ 12 one feature per grid cell
// carrying only `count`. The browser fetches only the tiles it shows and never pages a bbox GeoJSON.
import { t, translate } from "./i18n.js";
import { onSettled } from "./queue.js";
import { themes } from "./themes.js";

export const METROPOLE_BOUNDS = [[2.14, 48.64], [2.62, 49.02]];
export const PIN_LAYER = "pins"; // source-layer name written by carto/sql/tiles.py
export const POINTS_MIN_ZOOM = 13; // below this the tiles hold aggregated cells (carto.stats.grid)
const PINS_MAX_TILE_ZOOM = 14; // deeper zooms reuse (overzoom) the z14 tiles: same points, fewer requests
// Orientation without a street basemap (carto/sql/orientation_tiles.py): rail lines and QPV outlines from
// z10, stations from z12, their names in the z14 tiles (overzoomed deeper).
const ORIENTATION_MIN_ZOOM = 10;
const STATION_NAMES_MIN_ZOOM = 14;
// Street zoom: a pin's circle grows and shows its theme's pictogram (an image per theme and kind, pinPictograms).
export const STREET_ZOOM = 16;
// One colour per kind of mark, shared by the layers and the legend (map_legend.js).
export const CELL_COLOUR = "#3d3d6b";
export const HELP_COLOUR = "#00707f";
export const HELP_IMAGE = "help-place";
export const QPV_COLOUR = "#8c2f6b";
const PICTO_PX = 20; // a pin's pictogram, in CSS pixels

// `v` only changes the URL (so the browser's HTTP cache is bypassed) after this phone wrote a pin.
const pinTiles = (v) => `${location.origin}/api/tiles/pins/{z}/{x}/{y}.mvt${v ? `?v=${v}` : ""}`;

// `streets`: the street basemap's { sources, layers } (basemap.js), drawn under all of carto's own layers.
export function baseStyle(basemapUrl, streets = null) {
  const style = {
    version: 8,
    sources: {
      communes: { type: "geojson", data: "/api/territories/?kind=commune" },
      ept: { type: "geojson", data: "/api/territories/?kind=ept" },
      arrondissements: { type: "geojson", data: "/api/territories/?kind=arrondissement" },
      // Empty until the "help places" button shows the layer (setActorsVisible): most visits never ask.
      actors: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      pins: { type: "vector", tiles: [pinTiles()], minzoom: 0, maxzoom: PINS_MAX_TILE_ZOOM },
      orientation: { type: "vector", tiles: [`${location.origin}/api/tiles/orientation/{z}/{x}/{y}.mvt`],
        minzoom: ORIENTATION_MIN_ZOOM, maxzoom: 14 },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } },
      // The Métropole lighter than around it; a thin veil only over the streets, whose names must stay readable.
      { id: "communes-fill", type: "fill", source: "communes",
        paint: { "fill-color": "#ffffff", "fill-opacity": streets ? 0.3 : 0.7 } },
      { id: "arrondissements-line", type: "line", source: "arrondissements",
        paint: { "line-color": "#9a9a9a", "line-width": 0.6, "line-dasharray": [2, 2] } },
      { id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#8a8a8a", "line-width": 0.8 } },
      { id: "ept-line", type: "line", source: "ept", paint: { "line-color": "#3d3d6b", "line-width": 2 } },
      // Under the pins: QPV outlines dashed, the lines in their official colours, the stations and their names.
      { id: "qpv-outline", type: "line", source: "orientation", "source-layer": "qpv",
        paint: { "line-color": QPV_COLOUR, "line-width": 1.4, "line-dasharray": [3, 2] } },
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
      // Help places: their own mark (a rounded square with a heart, helpPlaceCanvas), not a pin's circle.
      { id: "actors", type: "symbol", source: "actors", layout: { visibility: "none", "icon-image": HELP_IMAGE,
        "icon-allow-overlap": true, "icon-ignore-placement": true,
        "icon-size": ["interpolate", ["linear"], ["zoom"], 10, 0.6, 15, 1] } },
      // Low zooms: one circle per grid cell, its area growing with the number of pins in the cell, its count
      // written on it (the browser's own font: no glyph server).
      { id: "pin-cells", type: "circle", source: "pins", "source-layer": PIN_LAYER, maxzoom: POINTS_MIN_ZOOM,
        filter: ["!", ["has", "id"]],
        paint: { "circle-color": CELL_COLOUR, "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
          "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "count"]], 1, 10, 2, 13, 4, 16, 10, 21, 30, 30, 100, 40] } },
      { id: "pin-cell-counts", type: "symbol", source: "pins", "source-layer": PIN_LAYER, maxzoom: POINTS_MIN_ZOOM,
        filter: ["!", ["has", "id"]],
        layout: { "text-field": ["case", [">=", ["get", "count"], 10000],
          ["concat", ["to-string", ["round", ["/", ["get", "count"], 1000]]], "k"], ["to-string", ["get", "count"]]],
          "text-font": ["sans-serif"], "text-size": ["interpolate", ["linear"], ["get", "count"], 1, 13, 100, 15],
          "text-allow-overlap": true, "text-ignore-placement": true },
        paint: { "text-color": "#ffffff" } },
      // z ≥ 13: one circle per pin, coloured by theme (colourPins), a need filled and a proposal a ring.
      { id: "pins", type: "circle", source: "pins", "source-layer": PIN_LAYER, minzoom: POINTS_MIN_ZOOM,
        filter: ["has", "id"],
        paint: { "circle-color": "#555", "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 6, 15, 8, STREET_ZOOM, 15, 18, 18] } },
      // Street zoom: the theme's pictogram on the pin (white on a need, in the theme's colour on a proposal).
      { id: "pin-pictos", type: "symbol", source: "pins", "source-layer": PIN_LAYER, minzoom: STREET_ZOOM,
        filter: ["has", "id"],
        layout: { "icon-image": ["concat", "picto-", ["get", "kind"], "-", ["get", "theme"]],
          "icon-size": ["interpolate", ["linear"], ["zoom"], STREET_ZOOM, 1, 18, 1.2],
          "icon-allow-overlap": true, "icon-ignore-placement": true } },
    ],
  };
  if (streets) {
    Object.assign(style.sources, streets.sources);
    style.layers.splice(1, 0, ...streets.layers);
  }
  if (basemapUrl) {
    style.sources.basemap = { type: "raster", tiles: [basemapUrl], tileSize: 256 };
    style.layers.splice(1, 0, { id: "basemap", type: "raster", source: "basemap" });
  }
  return style;
}

export function createMap(container, streets = null) {
  const map = new maplibregl.Map({
    container,
    style: baseStyle(container.dataset.basemapUrl, streets),
    bounds: METROPOLE_BOUNDS,
    dragRotate: false,
    attributionControl: { compact: true,
      customAttribution: "Etalab / IGN, INSEE, ANCT — Licence Ouverte · Île-de-France Mobilités — ODbL" },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  labelZoomButtons(container);
  // The credits fold behind their (i) button at once: open, they would sit under the add button on a phone.
  // The street basemap's source adds "© OpenStreetMap contributors" to them.
  container.querySelector(".maplibregl-ctrl-attrib")?.classList.remove("maplibregl-compact-show");
  map.on("load", () => {
    map.addImage(HELP_IMAGE, imageOf(helpPlaceCanvas(2)), { pixelRatio: 2 });
    pinPictograms(map, themes);
  });
  setupLegend(document.getElementById("legend"),
    { cellColour: CELL_COLOUR, helpColour: HELP_COLOUR, helpMark: helpPlaceCanvas(2), qpvColour: QPV_COLOUR });
  // The pins source has a single source-layer: let querySourceFeatures("pins") name it by default.
  const querySourceFeatures = map.querySourceFeatures.bind(map);
  map.querySourceFeatures = (source, params) =>
    querySourceFeatures(source, source === "pins" ? { sourceLayer: PIN_LAYER, ...params } : params);
  // A pin this phone just sent (possibly from the offline queue) shows without waiting for the tiles' max-age.
  onSettled((outcome) => { if (outcome.ok) refreshPins(map); });
  window.cartoMap = map; // for tests and debugging
  return map;
}

// The zoom buttons speak the page's language (translate() keeps their aria-label in step): small squares in the
// top corner, never taken for the add button (a wide labelled pill at the bottom).
function labelZoomButtons(container) {
  for (const [name, key] of [["in", "nav.zoom_in"], ["out", "nav.zoom_out"]]) {
    const button = container.querySelector(`.maplibregl-ctrl-zoom-${name}`);
    if (!button) continue;
    button.dataset.i18nLabel = key;
    button.setAttribute("aria-label", t(key));
    button.removeAttribute("title"); // a tooltip in MapLibre's English would outlive a language change
  }
}

const imageOf = (canvas) => canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);

// A help place's mark: a rounded square (pins are round) in HELP_COLOUR, a white heart. The map's image and
// the legend's swatch are this same drawing.
export function helpPlaceCanvas(pixelRatio = 2, size = 26) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = Math.round(size * pixelRatio);
  const ctx = canvas.getContext("2d");
  ctx.scale(pixelRatio, pixelRatio);
  const [a, b, r] = [1.5, size - 1.5, 6]; // a rounded square by arcTo: older phones lack roundRect()
  ctx.beginPath();
  ctx.moveTo(a + r, a);
  ctx.arcTo(b, a, b, b, r);
  ctx.arcTo(b, b, a, b, r);
  ctx.arcTo(a, b, a, a, r);
  ctx.arcTo(a, a, b, a, r);
  ctx.closePath();
  ctx.fillStyle = HELP_COLOUR;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  ctx.translate(5, 5.5);
  ctx.scale((size - 10) / 48, (size - 10) / 48);
  strokeIcon(ctx, "help", "#ffffff", 5);
  return canvas;
}

// A theme's pictogram as an SVG document in one colour: from the page's inline sprite when it has one
// (<symbol id="picto-<file stem>">), else from the pictogram's own file.
async function pictogramSvg(theme, colour) {
  const stem = theme.pictogram_url.split("/").pop().split(".")[0];
  const symbol = document.getElementById(`picto-${stem}`);
  let svg;
  if (symbol) {
    const attrs = ["fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin"]
      .filter((a) => symbol.hasAttribute(a)).map((a) => `${a}="${symbol.getAttribute(a)}"`).join(" ");
    svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${symbol.getAttribute("viewBox") || "0 0 48 48"}" ${attrs}>${symbol.innerHTML}</svg>`;
  } else {
    svg = await (await fetch(theme.pictogram_url)).text();
  }
  return svg.replaceAll("currentColor", colour);
}

// Every theme's pictogram as two map images: white (on a need's filled circle) and in the theme's colour
// (on a proposal's ring). Drawn once the themes and the style are there; a missing one only hides itself.
export async function pinPictograms(map, list) {
  const pixelRatio = 2;
  const side = PICTO_PX * pixelRatio;
  await Promise.all(list.filter((th) => th.parent && th.pictogram_url).flatMap((th) =>
    [["need", "#ffffff"], ["proposal", th.color]].map(async ([kind, colour]) => {
      const id = `picto-${kind}-${th.slug}`;
      if (map.hasImage(id)) return;
      try {
        const url = URL.createObjectURL(new Blob([await pictogramSvg(th, colour)], { type: "image/svg+xml" }));
        const img = new Image(side, side);
        img.src = url;
        await img.decode();
        URL.revokeObjectURL(url);
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = side;
        canvas.getContext("2d").drawImage(img, 0, 0, side, side);
        if (!map.hasImage(id)) map.addImage(id, imageOf(canvas), { pixelRatio });
      } catch {
        // offline first visit: the circle in the theme's colour still says the theme
      }
    })));
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
  pinPictograms(map, themes); // a no-op for the images the map's "load" already added
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

// The help places (one feature per place, names in normal case: carto.actor_places), fetched the first time
// the layer is shown, never while it is hidden.
const ACTORS_URL = "/api/actors/?mgp=true&bbox=2.14,48.64,2.62,49.02";
const actorsAsked = new WeakSet();

export function setActorsVisible(map, visible) {
  if (visible && !actorsAsked.has(map)) {
    actorsAsked.add(map);
    map.getSource("actors").setData(ACTORS_URL);
  }
  map.setLayoutProperty("actors", "visibility", visible ? "visible" : "none");
}

// The commune under a point, from the outlines already drawn (works offline once they are loaded).
export function communeAt(map, lngLat) {
  const point = map.project(lngLat);
  const hit = map.queryRenderedFeatures(point, { layers: ["communes-fill"] })[0];
  return hit ? hit.properties.name : "";
}

// --- The legend: one entry for each kind of mark the map draws, its swatch drawn like the mark -----------
// Words come from the catalogue (data-i18n: a language change rewrites them).
const el = (tag, className) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
};

function row(swatch, key) {
  const item = el("li", "legend-item");
  item.dataset.entry = key.split(".").pop();
  swatch.setAttribute("aria-hidden", "true");
  const label = el("span");
  label.dataset.i18n = key;
  item.append(swatch, label);
  return item;
}

function mark(className, text = "") {
  const swatch = el("span", `mark ${className}`);
  swatch.textContent = text;
  return swatch;
}

// `details` is the page's <details id="legend">; `helpMark` a canvas of the help places' mark.
export function setupLegend(details, { cellColour, helpColour, helpMark, qpvColour }) {
  if (!details) return;
  const list = details.querySelector("ul") || details.appendChild(el("ul", "legend-list"));
  const group = mark("group", "12");
  group.style.setProperty("--mark", cellColour);
  const help = el("span", "mark help");
  help.append(helpMark);
  help.style.setProperty("--mark", helpColour);
  const qpv = mark("qpv");
  qpv.style.setProperty("--mark", qpvColour);
  list.replaceChildren(
    row(mark("need"), "legend.need"),
    row(mark("proposal"), "legend.proposal"),
    row(group, "legend.group"),
    row(help, "legend.help"),
    row(qpv, "legend.qpv"),
    row(mark("station"), "legend.station"),
  );
  translate(details);
  details.hidden = false;
}

// --- The page's own pictograms -------------------------------------------------------------------------
// Outcomes, statuses, buttons and help places, hand-drawn on the 48×48 grid of static/pictograms/ (round 3 px
// strokes in currentColor) and kept as path data: one drawing serves an inline <svg> in the page and a map
// image painted on a canvas (Path2D), with no request of its own.
const SVG = "http://www.w3.org/2000/svg";
const ring = (cx, cy, r) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0z`;

export const ICONS = {
  // What became of a pin just sent: sent, waiting for the network, held for review.
  sent: [ring(24, 24, 19), "M15 25l6 6 12-13"],
  queued: ["M4 20a25 25 0 0 1 32 0", "M10 27a16 16 0 0 1 20 0", "M20 34v.1", ring(36, 36, 9), "M36 31v5l3 2"],
  held: [ring(20, 20, 12), "M29 29l12 12"],
  // A pin's status.
  received: ["M6 28v10a4 4 0 0 0 4 4h28a4 4 0 0 0 4-4V28", "M6 28h10l3 5h10l3-5h10", "M24 5v17M17 15l7 7 7-7"],
  acknowledged: ["M15 9h-4a3 3 0 0 0-3 3v29a3 3 0 0 0 3 3h26a3 3 0 0 0 3-3V12a3 3 0 0 0-3-3h-4",
    "M18 5h12v8H18z", "M16 28l6 6 11-12"],
  linked: ["M21 27l6-6", "M22 15l4-4a7.8 7.8 0 0 1 11 11l-4 4", "M26 33l-4 4a7.8 7.8 0 0 1-11-11l4-4"],
  resolved: ["M6 21h8v21H6z", "M14 23l7-15c3 0 5 2 5 5l-1 7h12a4 4 0 0 1 4 5l-3 13a4 4 0 0 1-4 3H14"],
  declined: [ring(24, 24, 19), "M17 17l14 14M31 17L17 31"],
  hidden: ["M4 24s7-11 20-11 20 11 20 11-7 11-20 11S4 24 4 24z", ring(24, 24, 5), "M9 39L39 9"],
  // The flow's buttons and notices.
  here: ["M24 44S10 31 10 19a14 14 0 0 1 28 0c0 12-14 25-14 25z", ring(24, 19, 5)],
  next: ["M8 24h30", "M27 13l11 11-11 11"],
  back: ["M40 24H10", "M21 13L10 24l11 11"],
  send: ["M5 22L43 6 31 43l-8-16z", "M23 27L43 6"],
  add: ["M24 45S10 32 10 20a14 14 0 0 1 28 0c0 12-14 25-14 25z", "M24 13v14M17 20h14"],
  public: ["M4 24s7-11 20-11 20 11 20 11-7 11-20 11S4 24 4 24z", ring(24, 24, 5)],
  // Drawn, not emoji or symbol characters: a cheap phone's fonts may lack them (an empty box instead).
  locate: [ring(24, 24, 12), ring(24, 24, 3), "M24 4v8M24 36v8M4 24h8M36 24h8"],
  photo: ["M6 17a3 3 0 0 1 3-3h7l3-5h10l3 5h7a3 3 0 0 1 3 3v20a3 3 0 0 1-3 3H9a3 3 0 0 1-3-3z", ring(24, 26, 8)],
  // Help places and how to reach them.
  help: ["M24 41S7 30 7 18a9 9 0 0 1 17-4 9 9 0 0 1 17 4c0 12-17 23-17 23z"],
  hours: [ring(24, 24, 19), "M24 13v11l7 5"],
  phone: ["M15 6H9a3 3 0 0 0-3 3c0 18 15 33 33 33a3 3 0 0 0 3-3v-6l-9-4-4 4c-6-2-10-6-12-12l4-4z"],
  web: [ring(24, 24, 19), "M5 24h38", "M24 5c-8 9-8 29 0 38M24 5c8 9 8 29 0 38"],
  go: ["M24 4l20 20-20 20L4 24z", "M18 31v-6a3 3 0 0 1 3-3h10", "M27 17l5 5-5 5"],
  // A quartier's sheet (quartier.js): the quartier, its inhabitants, "moi aussi", the same need elsewhere.
  quartier: ["M6 16l14-9 20 5 3 21-17 10-19-9z", ring(23, 23, 4)],
  find: [ring(21, 21, 14), "M31 31l12 12"],
  inhabitants: [ring(17, 15, 6), "M5 41a12 12 0 0 1 24 0", ring(33, 18, 5), "M29 29a10 10 0 0 1 14 9"],
  metoo: ["M17 42V21a3 3 0 0 1 6 0V10a3 3 0 0 1 6 0v11a3 3 0 0 1 6 0v4a3 3 0 0 1 6 0v8c0 5-4 9-9 9z", "M17 30l-5-5a3 3 0 0 0-4 4l9 10"],
  shared: ["M14 28S7 21 7 15a7 7 0 0 1 14 0c0 6-7 13-7 13z", "M34 41S27 34 27 28a7 7 0 0 1 14 0c0 6-7 13-7 13z", "M14 34c0 5 5 8 11 8"],
};
// Drawn mirrored in a right-to-left page: they point along the reading direction.
const DIRECTIONAL = new Set(["next", "back", "go"]);

// An inline <svg> of an icon (decorative: the words beside it carry the meaning).
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 48 48");
  svg.setAttribute("class", DIRECTIONAL.has(name) ? `${className} directional` : className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [attr, value] of [["fill", "none"], ["stroke", "currentColor"], ["stroke-width", "3"],
    ["stroke-linecap", "round"], ["stroke-linejoin", "round"]]) svg.setAttribute(attr, value);
  svg.dataset.icon = name;
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// Every <… data-icon="name"> placeholder of `root` (the page's markup) receives its icon once.
export function placeIcons(root) {
  root.querySelectorAll("span[data-icon]:empty").forEach((el) => el.append(icon(el.dataset.icon)));
}

// Stroke an icon on a 2D canvas context already scaled to the 48×48 grid.
export function strokeIcon(ctx, name, colour, width = 3) {
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const d of ICONS[name] || []) ctx.stroke(new Path2D(d));
  ctx.restore();
}

// A pin's status as its pictogram and its word ("Reçu", "Pris en compte"…), the same in easy-read mode.
export const STATUS_ICONS = {
  pending: "held", received: "received", acknowledged: "acknowledged", linked: "linked", resolved: "resolved",
  declined: "declined", hidden: "hidden",
};

export function statusMark(status, word) {
  const span = document.createElement("span");
  span.className = `status-mark status-${status}`;
  const label = document.createElement("span");
  label.textContent = word;
  span.append(icon(STATUS_ICONS[status] || "received"), label);
  return span;
}
