// /heatmap/ for officials: a choropleth of /api/stats/territories/ in quantile classes with readable bounds
// ("2 à 5 pour 10 000 habitants"), a heatmap fed by the pin vector tiles, optional hexagons from
// /api/stats/hexbins/ (stored aggregates), QPV outlines, names on hover and as labels once zoomed in, a
// legend entry for every layer shown, a PNG export, and the state of needs of a territory (needs.js).
// The address holds the level, the filters, the layers and the territory whose needs are shown.
// No external basemap: territory outlines come from carto's own tiles.
import {
  $, BACKGROUND, EMPTY, OUTLINES, dashboardMap, download, el, fillThemeSelect, getJSON, isSuppressed,
  labelPoint, mapLoaded, mapSnapshot, outlineLayers, pinsText, pngBlob, startLanguage, territoryNames,
  territoryShapes, themeName, valueText,
} from "./dashboard.js";
import { t } from "./i18n.js";
import { HEAT_STOPS, HEX_STOPS, ZERO, classify, colourOf, legendItems, legendRows } from "./legend.js";
import { createBoard } from "./needs.js";
import { setThemes } from "./themes.js";

const LEVELS = ["commune", "ept", "arrondissement", "qpv"];
const PERIODS = ["", "30", "90", "365"];
// Names are written on the map from these zooms (a label per territory would cover the whole Métropole).
const LABEL_MIN_ZOOM = { ept: 0, commune: 11, arrondissement: 11.5, qpv: 12.5 };
const MAX_LABELS = 80;
const state = { level: "commune", theme: "", period: "", heat: true, hex: false, qpv: true, territory: "", classes: null, themes: [] };
const labelPoints = {}; // level → [{code, name, point}]
const labels = new Map(); // code → maplibregl.Marker

// --- The address ----------------------------------------------------------------------------------------

function readAddress() {
  const params = new URLSearchParams(location.search);
  state.level = LEVELS.includes(params.get("level")) ? params.get("level") : "commune";
  state.theme = params.get("theme") || "";
  state.period = PERIODS.includes(params.get("period")) ? params.get("period") : "";
  const layers = params.get("layers");
  if (layers !== null) {
    const on = layers.split(",");
    state.heat = on.includes("heat");
    state.hex = on.includes("hexagons");
    state.qpv = on.includes("qpv");
  }
  state.territory = params.get("territory") || "";
}

function writeAddress() {
  const params = new URLSearchParams({ level: state.level });
  if (state.theme) params.set("theme", state.theme);
  if (state.period) params.set("period", state.period);
  params.set("layers", [state.heat && "heat", state.hex && "hexagons", state.qpv && "qpv"].filter(Boolean).join(","));
  if (state.territory) params.set("territory", state.territory);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

function filterQuery() {
  const params = new URLSearchParams();
  if (state.theme) params.set("theme", state.theme);
  if (state.period) {
    const since = new Date(Date.now() - Number(state.period) * 86400000);
    params.set("since", since.toISOString().slice(0, 10));
  }
  return params;
}

// --- The map --------------------------------------------------------------------------------------------

const pinTiles = () => `${location.origin}/api/tiles/pins/{z}/{x}/{y}.mvt?${filterQuery()}`;
const visibility = (on) => (on ? "visible" : "none");

const map = dashboardMap($("heatmap"), {
  sources: {
    pins: { type: "vector", tiles: [pinTiles()], maxzoom: 16 },
    choropleth: { type: "geojson", data: EMPTY },
    qpv: { type: "geojson", data: EMPTY },
    hexbins: { type: "geojson", data: EMPTY },
  },
  layers: [
    BACKGROUND,
    { id: "choropleth-fill", type: "fill", source: "choropleth",
      paint: { "fill-color": ["coalesce", ["get", "colour"], ZERO], "fill-opacity": 0.8 } },
    ...outlineLayers(),
    { id: "qpv-line", type: "line", source: "qpv",
      paint: { "line-color": OUTLINES.qpv.color, "line-width": OUTLINES.qpv.width, "line-dasharray": [2, 1] } },
    { id: "hex-fill", type: "fill", source: "hexbins", layout: { visibility: "none" },
      paint: {
        // "<5" (suppressed) is a string: drawn in the palest colour, like a count of 1.
        "fill-color": ["interpolate", ["linear"], ["to-number", ["get", "count"], 1], ...HEX_STOPS.flat()],
        "fill-opacity": 0.8, "fill-outline-color": "#ffffff",
      } },
    { id: "heat", type: "heatmap", source: "pins", "source-layer": "pins",
      paint: {
        // Low-zoom features are grid cells carrying a count; high-zoom ones are pins (count 1).
        "heatmap-weight": ["interpolate", ["linear"], ["get", "count"], 0, 0, 1, 0.3, 20, 1, 500, 3],
        "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 8, 0.8, 15, 2],
        "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 8, 12, 15, 24],
        "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"], ...HEAT_STOPS.flat()],
        "heatmap-opacity": 0.7,
      } },
    { id: "choropleth-hover", type: "line", source: "choropleth", filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#000", "line-width": 2.5 } },
    { id: "choropleth-chosen", type: "line", source: "choropleth", filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#b3261e", "line-width": 3 } },
  ],
});
window.cartoHeatmap = map; // for tests and debugging

// Suppressed territories are hatched: the pattern is drawn here, no sprite needed.
function addHatch() {
  const size = 8;
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const on = (x + y) % size < 2;
      data.set(on ? [138, 138, 138, 255] : [255, 255, 255, 255], (y * size + x) * 4);
    }
  }
  map.addImage("hatch", { width: size, height: size, data });
  map.addLayer({ id: "choropleth-suppressed", type: "fill", source: "choropleth", filter: ["==", ["get", "suppressed"], true],
    paint: { "fill-pattern": "hatch", "fill-opacity": 0.8 } }, "communes-line");
}

function renderLegends() {
  const items = legendItems(state.classes);
  legendRows("legend", state.classes ? t("heatmap.legend_choropleth", { level: t(`heatmap.level.${state.level}`) }) : "", items.choropleth);
  legendRows("heat-legend", "", items.heat);
  legendRows("hex-legend", "", items.hexagons);
  legendRows("qpv-legend", "", items.qpv);
  legendRows("outline-legend", "", items.outlines);
  $("heat-legend").hidden = !state.heat;
  $("hex-legend").hidden = !state.hex;
  $("qpv-legend").hidden = !state.qpv;
}

// --- Data -----------------------------------------------------------------------------------------------

async function levelGeometries(level) {
  const shapes = await territoryShapes(level);
  labelPoints[level] ??= shapes.features
    .filter((f) => f.geometry)
    .map((f) => ({ code: f.id, name: f.properties.name, point: labelPoint(f.geometry) }))
    .filter((p) => p.point);
  return shapes;
}

async function refreshChoropleth() {
  const level = state.level;
  const params = filterQuery();
  params.set("level", level);
  const [shapes, stats] = await Promise.all([levelGeometries(level), getJSON(`/api/stats/territories/?${params}`)]);
  if (level !== state.level) return; // another level was chosen meanwhile
  const byCode = Object.fromEntries(stats.territories.map((row) => [row.code, row]));
  state.classes = classify(stats.territories.map((row) => row.per_1000));
  const features = shapes.features
    .filter((f) => f.geometry)
    .map((f) => {
      const row = byCode[f.id] || {};
      return {
        type: "Feature",
        geometry: f.geometry,
        properties: {
          code: f.id,
          name: f.properties.name,
          pins: row.pins ?? 0,
          per_1000: row.per_1000 ?? null,
          suppressed: isSuppressed(row.pins),
          colour: colourOf(row.per_1000, state.classes),
        },
      };
    });
  await mapLoaded(map);
  map.getSource("choropleth").setData({ type: "FeatureCollection", features });
  map.setFilter("choropleth-chosen", ["==", ["get", "code"], state.territory]);
  renderLegends();
  updateLabels();
  document.body.dataset.choroplethLevel = level;
  document.body.dataset.choroplethFeatures = String(features.length);
}

async function refreshQpvOutlines() {
  map.setLayoutProperty("qpv-line", "visibility", visibility(state.qpv));
  if (!state.qpv) return;
  const outlines = await territoryShapes("qpv");
  map.getSource("qpv").setData(outlines);
  document.body.dataset.qpvOutlines = String(outlines.features.length);
}

// Hexagons ~30 px wide on screen: hexbin zoom z (256 px tiles) is MapLibre zoom z - 1 (512 px tiles),
// where its hexagons are ~15 px; one zoom coarser doubles them.
const HEX_MAX_ZOOM = 12;
const hexZoom = () => Math.max(0, Math.min(HEX_MAX_ZOOM, Math.round(map.getZoom())));

async function refreshHexbins() {
  if (!state.hex) return;
  const params = filterQuery();
  const b = map.getBounds();
  params.set("zoom", String(hexZoom()));
  params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
  const hexagons = await getJSON(`/api/stats/hexbins/?${params}`);
  map.getSource("hexbins").setData(hexagons);
  document.body.dataset.hexagons = String(hexagons.features.length);
}

// Names written on the map once zoomed in enough for the level (markers: no glyph server needed).
function updateLabels() {
  const points = labelPoints[state.level] || [];
  const box = map.getBounds();
  const wanted = map.getZoom() >= LABEL_MIN_ZOOM[state.level] ? points.filter((p) => box.contains(p.point)).slice(0, MAX_LABELS) : [];
  const keep = new Set(wanted.map((p) => p.code));
  for (const [code, marker] of labels) {
    if (!keep.has(code)) {
      marker.remove();
      labels.delete(code);
    }
  }
  for (const p of wanted) {
    if (labels.has(p.code)) continue;
    const tag = el("div", "map-label", p.name);
    tag.setAttribute("aria-hidden", "true"); // the names are read from the hover line and the legend's select
    tag.dataset.code = p.code;
    labels.set(p.code, new maplibregl.Marker({ element: tag }).setLngLat(p.point).addTo(map));
  }
  document.body.dataset.labels = String(labels.size);
}

function clearLabels() {
  for (const marker of labels.values()) marker.remove();
  labels.clear();
}

// --- Hover, click, the state of needs -------------------------------------------------------------------

map.on("mousemove", "choropleth-fill", (event) => {
  const feature = event.features[0];
  if (!feature) return;
  const p = feature.properties;
  map.setFilter("choropleth-hover", ["==", ["get", "code"], p.code]);
  const per1000 = p.per_1000 === null || p.per_1000 === "null" || p.per_1000 === undefined ? null : Number(p.per_1000);
  const pins = p.pins === "<5" ? p.pins : Number(p.pins);
  $("hover").textContent = valueText(p.name, pins, per1000, state.classes ? state.classes.unit : 1000);
  map.getCanvas().style.cursor = "pointer";
});
map.on("mousemove", "hex-fill", (event) => {
  const feature = event.features[0];
  if (feature) $("hover").textContent = t("heatmap.hex_hover", { pins: pinsText(feature.properties.count) });
});
map.on("mouseleave", "choropleth-fill", () => {
  map.setFilter("choropleth-hover", ["==", ["get", "code"], ""]);
  map.getCanvas().style.cursor = "";
});
map.on("click", "choropleth-fill", (event) => {
  const feature = event.features[0];
  if (feature) chooseTerritory(feature.properties.code);
});
map.on("moveend", () => {
  refreshHexbins();
  updateLabels();
});

const board = createBoard({
  container: $("needs"),
  filters: filterQuery,
  onClose: () => chooseTerritory(""),
});

function chooseTerritory(code) {
  state.territory = code;
  $("board-territory").value = code;
  writeAddress();
  if (map.getLayer("choropleth-chosen")) map.setFilter("choropleth-chosen", ["==", ["get", "code"], code]);
  if (code) board.show(code);
  else board.hide();
}

// The state of needs is offered for every EPT and QPV by name (a click on the map opens any territory's).
function renderBoardPicker() {
  const select = $("board-territory");
  select.replaceChildren(new Option(t("needs.pick_none"), ""));
  const names = territoryNames();
  for (const level of ["ept", "qpv"]) {
    const group = el("optgroup");
    group.label = t(`heatmap.level.${level}`);
    for (const row of names.filter((x) => x.kind === level)) {
      group.append(new Option(level === "ept" ? `${row.code} ${row.name}` : row.name, row.code));
    }
    select.append(group);
  }
  select.value = state.territory;
}

// --- Filters and layers ---------------------------------------------------------------------------------

const fillThemes = () => fillThemeSelect($("theme"), state.themes, state.theme);

function applyLayers() {
  map.setLayoutProperty("heat", "visibility", visibility(state.heat));
  map.setLayoutProperty("hex-fill", "visibility", visibility(state.hex));
  refreshQpvOutlines();
  renderLegends();
}

$("level").addEventListener("change", () => {
  state.level = $("level").value;
  clearLabels();
  writeAddress();
  refreshChoropleth();
});
for (const id of ["theme", "period"]) {
  $(id).addEventListener("change", () => {
    state[id] = $(id).value;
    writeAddress();
    map.getSource("pins").setTiles([pinTiles()]);
    refreshChoropleth();
    refreshHexbins();
    if (state.territory) board.show(state.territory);
  });
}
for (const [id, key] of [["show-heat", "heat"], ["show-hex", "hex"], ["show-qpv", "qpv"]]) {
  $(id).addEventListener("change", () => {
    state[key] = $(id).checked;
    writeAddress();
    applyLayers();
    if (key === "hex") refreshHexbins();
  });
}
$("board-territory").addEventListener("change", () => chooseTerritory($("board-territory").value));

// --- PNG export: the map as drawn, its labels, its title, filters and the legend of every layer shown -----

async function exportPng() {
  const picture = await mapSnapshot(map);
  const ctx = picture.getContext("2d");
  const ratio = picture.width / map.getCanvas().clientWidth;
  ctx.font = `${12 * ratio}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.lineWidth = 3 * ratio;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.fillStyle = "#1b1b1b";
  for (const marker of labels.values()) {
    const { x, y } = map.project(marker.getLngLat());
    const name = marker.getElement().textContent;
    ctx.strokeText(name, x * ratio, y * ratio);
    ctx.fillText(name, x * ratio, y * ratio);
  }
  const items = legendItems(state.classes);
  const legend = [
    ...items.choropleth,
    ...(state.heat ? items.heat : []),
    ...(state.hex ? items.hexagons : []),
    ...(state.qpv ? items.qpv : []),
    ...items.outlines,
  ];
  const theme = state.theme ? themeName(state.theme) : t("compare.all_themes");
  const blob = await pngBlob({
    title: t("heatmap.title"),
    subtitle: `${t(`heatmap.level.${state.level}`)} · ${theme} · ${t(`heatmap.period.${state.period || "all"}`)}`,
    pictures: [picture],
    legend,
  });
  download(blob, "carto-carte.png");
  document.body.dataset.exported = "png";
}
$("png").addEventListener("click", exportPng);

// --- Start ----------------------------------------------------------------------------------------------

async function redrawWords() {
  fillThemes();
  renderLegends();
  renderBoardPicker();
  board.redraw();
}

readAddress();
await startLanguage("heatmap.title", redrawWords);
$("level").value = state.level;
$("period").value = state.period;
$("show-heat").checked = state.heat;
$("show-hex").checked = state.hex;
$("show-qpv").checked = state.qpv;
writeAddress();
renderLegends();
state.themes = await getJSON("/api/themes/");
setThemes(state.themes);
fillThemes();
await mapLoaded(map);
addHatch();
applyLayers();
renderBoardPicker();
await Promise.all([refreshChoropleth(), refreshHexbins()]);
if (state.territory) chooseTerritory(state.territory);
