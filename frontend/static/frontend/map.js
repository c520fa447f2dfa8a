// The metropolitan map, drawn from carto's own data: no external tiles unless CARTO_BASEMAP_URL is set.
import { getPins } from "./api.js";

export const METROPOLE_BOUNDS = [[2.14, 48.64], [2.62, 49.02]];
const MAX_PAGES = 5;

export function baseStyle(basemapUrl) {
  const style = {
    version: 8,
    sources: {
      communes: { type: "geojson", data: "/api/territories/?kind=commune" },
      ept: { type: "geojson", data: "/api/territories/?kind=ept" },
      arrondissements: { type: "geojson", data: "/api/territories/?kind=arrondissement" },
      actors: { type: "geojson", data: "/api/actors/?mgp=true&bbox=2.14,48.64,2.62,49.02" },
      // Client-side clusters of the bbox response until the cluster/tile endpoints exist.
      pins: { type: "geojson", data: { type: "FeatureCollection", features: [] }, cluster: true, clusterRadius: 40 },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } },
      { id: "communes-fill", type: "fill", source: "communes", paint: { "fill-color": "#ffffff", "fill-opacity": 0.7 } },
      { id: "arrondissements-line", type: "line", source: "arrondissements",
        paint: { "line-color": "#9a9a9a", "line-width": 0.6, "line-dasharray": [2, 2] } },
      { id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#8a8a8a", "line-width": 0.8 } },
      { id: "ept-line", type: "line", source: "ept", paint: { "line-color": "#3d3d6b", "line-width": 2 } },
      { id: "actors", type: "circle", source: "actors", layout: { visibility: "none" },
        paint: { "circle-radius": 5, "circle-color": "#00707f", "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
      { id: "pin-clusters", type: "circle", source: "pins", filter: ["has", "point_count"],
        paint: { "circle-color": "#3d3d6b", "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          "circle-radius": ["step", ["get", "point_count"], 12, 10, 16, 50, 22] } },
      { id: "pins", type: "circle", source: "pins", filter: ["!", ["has", "point_count"]],
        paint: { "circle-color": "#555", "circle-radius": 9, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
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
    attributionControl: { customAttribution: "Etalab / IGN, INSEE, ANCT — Licence Ouverte" },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.cartoMap = map; // for tests and debugging
  return map;
}

// Pins coloured by their theme (a needs' circle is filled, a proposal's is a ring).
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

// Visible pins of the current view, following "next" a few pages; a 413 keeps what we have and asks to zoom in.
export async function loadPins(map, onTooMany) {
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  const features = [];
  let url = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    let res;
    try {
      res = await getPins(bbox, url);
    } catch {
      return; // offline: keep the pins already drawn
    }
    if (res.status === 413) return onTooMany(true);
    if (res.status !== 200 || !res.body) return;
    features.push(...(res.body.features || []));
    url = res.body.next;
    if (!url) break;
  }
  onTooMany(false);
  map.getSource("pins").setData({ type: "FeatureCollection", features });
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

// Communes whose name starts with (or contains) the typed text, for the "where" search.
export function findCommunes(map, text) {
  const needle = normalise(text);
  if (needle.length < 2) return [];
  const seen = new Map();
  for (const f of map.querySourceFeatures("communes")) {
    const name = f.properties.name;
    if (!seen.has(name) && normalise(name).includes(needle)) seen.set(name, f);
  }
  return [...seen.values()].slice(0, 6);
}

export function featureCentre(feature) {
  let [minX, minY, maxX, maxY] = [180, 90, -180, -90];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
    } else c.forEach(walk);
  };
  walk(feature.geometry.coordinates);
  return [[minX, minY], [maxX, maxY]];
}

const normalise = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replaceAll("-", " ");
