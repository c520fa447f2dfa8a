// The metropolitan map, drawn from carto's own data: no external tiles unless CARTO_BASEMAP_URL is set.
const METROPOLE_BOUNDS = [[2.14, 48.64], [2.62, 49.02]];

export function baseStyle(basemapUrl) {
  const style = {
    version: 8,
    sources: {
      communes: { type: "geojson", data: "/api/territories/?kind=commune" },
      ept: { type: "geojson", data: "/api/territories/?kind=ept" },
      arrondissements: { type: "geojson", data: "/api/territories/?kind=arrondissement" },
      actors: { type: "geojson", data: "/api/actors/?mgp=true&bbox=2.14,48.64,2.62,49.02" },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } },
      { id: "communes-fill", type: "fill", source: "communes", paint: { "fill-color": "#ffffff", "fill-opacity": 0.7 } },
      { id: "arrondissements-line", type: "line", source: "arrondissements",
        paint: { "line-color": "#9a9a9a", "line-width": 0.6, "line-dasharray": [2, 2] } },
      { id: "communes-line", type: "line", source: "communes", paint: { "line-color": "#8a8a8a", "line-width": 0.8 } },
      { id: "ept-line", type: "line", source: "ept", paint: { "line-color": "#3d3d6b", "line-width": 2 } },
      { id: "actors", type: "circle", source: "actors",
        paint: { "circle-radius": 4, "circle-color": "#00707f", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
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
    attributionControl: { customAttribution: "Etalab / IGN, INSEE, ANCT — Licence Ouverte" },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  window.cartoMap = map; // for tests and debugging
  return map;
}

const container = document.getElementById("map");
if (container) createMap(container);
