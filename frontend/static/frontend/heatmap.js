// /heatmap/: a heatmap fed by the pin vector tiles, a choropleth of /api/stats/territories/ joined to
// /api/territories/?kind= (GeoJSON), and optional hexagons from /api/stats/hexbins/ (stored aggregates).
// No external basemap: territory outlines come from carto's own tiles.
const $ = (id) => document.getElementById(id);
const BOUNDS = [[2.14, 48.64], [2.62, 49.02]];
const COLOURS = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
// Hexagon colours by count: one stop per colour, shared by the layer and its legend.
const HEX_STOPS = [[1, COLOURS[1]], [10, COLOURS[2]], [50, COLOURS[3]], [250, COLOURS[4]]];
const origin = window.location.origin;

function filterQuery() {
  const params = new URLSearchParams();
  if ($("theme").value) params.set("theme", $("theme").value);
  if ($("period").value) {
    const since = new Date(Date.now() - Number($("period").value) * 86400000);
    params.set("since", since.toISOString().slice(0, 10));
  }
  return params;
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

const pinTiles = () => `${origin}/api/tiles/pins/{z}/{x}/{y}.mvt?${filterQuery()}`;

const map = new maplibregl.Map({
  container: "heatmap",
  bounds: BOUNDS,
  dragRotate: false,
  attributionControl: { customAttribution: "Etalab / IGN, INSEE, ANCT — Licence Ouverte" },
  style: {
    version: 8,
    sources: {
      territories: { type: "vector", tiles: [`${origin}/api/tiles/territories/{z}/{x}/{y}.mvt`], maxzoom: 14 },
      pins: { type: "vector", tiles: [pinTiles()], maxzoom: 16 },
      choropleth: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      hexbins: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } },
      { id: "choropleth-fill", type: "fill", source: "choropleth",
        paint: { "fill-color": ["coalesce", ["get", "colour"], "#ffffff"], "fill-opacity": 0.75 } },
      { id: "communes-line", type: "line", source: "territories", "source-layer": "communes",
        paint: { "line-color": "#8a8a8a", "line-width": 0.6 } },
      { id: "ept-line", type: "line", source: "territories", "source-layer": "ept",
        paint: { "line-color": "#3d3d6b", "line-width": 1.6 } },
      { id: "choropleth-hover", type: "line", source: "choropleth", filter: ["==", ["id"], ""],
        paint: { "line-color": "#000", "line-width": 2.5 } },
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
          "heatmap-opacity": 0.7,
        } },
    ],
  },
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
window.cartoHeatmap = map; // for tests and debugging

const geometries = {}; // level → GeoJSON of the territories (fetched once)

function breaks(values) {
  const sorted = values.filter((v) => typeof v === "number" && v > 0).sort((a, b) => a - b);
  if (!sorted.length) return [];
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return [...new Set([q(0.2), q(0.4), q(0.6), q(0.8)])];
}

function colourOf(value, limits) {
  if (typeof value !== "number") return null;
  let i = 0;
  while (i < limits.length && value >= limits[i]) i += 1;
  return COLOURS[Math.min(i, COLOURS.length - 1)];
}

const fmt = (v) => (v === null || v === undefined ? "—" : typeof v === "number" ? v.toLocaleString("fr-FR", { maximumFractionDigits: 3 }) : v);

function renderLegend(limits) {
  const rows = [["0", COLOURS[0]]];
  limits.forEach((limit, i) => rows.push([`≥ ${fmt(limit)}`, COLOURS[Math.min(i + 1, COLOURS.length - 1)]]));
  rows.push(["< 5 signalements ou population inconnue", "#ffffff"]);
  legendRows("legend", rows);
}

function legendRows(id, rows) {
  $(id).replaceChildren(
    ...rows.map(([label, colour]) => {
      const div = document.createElement("div");
      const swatch = document.createElement("i");
      swatch.style.background = colour;
      div.append(swatch, document.createTextNode(label));
      return div;
    }),
  );
}

async function refreshChoropleth() {
  const level = $("level").value;
  geometries[level] ??= await getJSON(`/api/territories/?kind=${level}`);
  const params = filterQuery();
  params.set("level", level);
  const stats = await getJSON(`/api/stats/territories/?${params}`);
  const byCode = Object.fromEntries(stats.territories.map((row) => [row.code, row]));
  const limits = breaks(stats.territories.map((row) => row.per_1000));
  const features = geometries[level].features
    .filter((f) => f.geometry)
    .map((f) => {
      const row = byCode[f.id] || {};
      return {
        type: "Feature",
        id: f.id,
        geometry: f.geometry,
        properties: {
          code: f.id,
          name: f.properties.name,
          pins: String(row.pins ?? 0),
          per_1000: row.per_1000 ?? null,
          colour: colourOf(row.per_1000, limits),
        },
      };
    });
  map.getSource("choropleth").setData({ type: "FeatureCollection", features });
  renderLegend(limits);
  document.body.dataset.choroplethLevel = level;
  document.body.dataset.choroplethFeatures = String(features.length);
}

function refreshHeat() {
  map.getSource("pins").setTiles([pinTiles()]);
}

// Hexagons ~30 px wide on screen: hexbin zoom z (256 px tiles) is MapLibre zoom z - 1 (512 px tiles),
// where its hexagons are ~15 px; one zoom coarser doubles them.
const HEX_MAX_ZOOM = 12;
const hexZoom = () => Math.max(0, Math.min(HEX_MAX_ZOOM, Math.round(map.getZoom())));

async function refreshHexbins() {
  if (!$("show-hex").checked) return;
  const params = filterQuery();
  const b = map.getBounds();
  params.set("zoom", String(hexZoom()));
  params.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
  const hexagons = await getJSON(`/api/stats/hexbins/?${params}`);
  map.getSource("hexbins").setData(hexagons);
  document.body.dataset.hexagons = String(hexagons.features.length);
}

map.on("mousemove", "choropleth-fill", (event) => {
  const feature = event.features[0];
  if (!feature) return;
  map.setFilter("choropleth-hover", ["==", ["id"], feature.id]);
  const p = feature.properties;
  const rate = p.per_1000 === null || p.per_1000 === undefined || p.per_1000 === "null" ? "—" : fmt(Number(p.per_1000));
  $("hover").textContent = `${p.name} : ${p.pins} signalement(s), ${rate} pour 1 000 habitants`;
  map.getCanvas().style.cursor = "pointer";
});
map.on("mousemove", "hex-fill", (event) => {
  const feature = event.features[0];
  if (feature) $("hover").textContent = `Hexagone : ${feature.properties.count} signalement(s)`;
});
map.on("mouseleave", "choropleth-fill", () => {
  map.setFilter("choropleth-hover", ["==", ["id"], ""]);
  map.getCanvas().style.cursor = "";
});

$("level").addEventListener("change", refreshChoropleth);
for (const id of ["theme", "period"]) {
  $(id).addEventListener("change", () => {
    refreshHeat();
    refreshChoropleth();
    refreshHexbins();
  });
}
$("show-hex").addEventListener("change", (event) => {
  map.setLayoutProperty("hex-fill", "visibility", event.target.checked ? "visible" : "none");
  $("hex-legend").hidden = !event.target.checked;
  refreshHexbins();
});
map.on("moveend", refreshHexbins);
legendRows("hex-legend", [
  ["Hexagones : moins de 10 signalements", HEX_STOPS[0][1]],
  ...HEX_STOPS.slice(1).map(([count, colour]) => [`≥ ${count}`, colour]),
]);
$("show-heat").addEventListener("change", (event) => {
  map.setLayoutProperty("heat", "visibility", event.target.checked ? "visible" : "none");
});

for (const theme of await getJSON("/api/themes/")) {
  const label = theme.labels.fr || theme.slug;
  $("theme").append(new Option(theme.parent ? `— ${label}` : label, theme.slug));
}
if (!map.loaded()) await new Promise((resolve) => map.once("load", resolve));
await refreshChoropleth();
