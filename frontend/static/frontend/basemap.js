// The operator's street basemap (CARTO_BASEMAP_PMTILES, built by `make basemap`): OpenStreetMap vector tiles in
// one PMTiles file that our server answers in byte ranges, read by the pmtiles library (a MapLibre protocol)
// and drawn with the bundled style basemap.json. app.js imports this module only when the page names such a
// file: a page without one never downloads it, the pmtiles script (8 KB gzip) or the style.
const SCRIPT = new URL("../vendor/pmtiles/pmtiles.js", import.meta.url).href;
const STYLE = new URL("./basemap.json", import.meta.url).href;

function script(src) {
  return new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = src;
    tag.onload = resolve;
    tag.onerror = reject;
    document.head.append(tag);
  });
}

// The basemap's { sources, layers } for the map's style (map.js baseStyle), its pmtiles:// protocol registered
// once MapLibre (`mapLibre`, the loader's promise) is there; null when anything cannot load (offline on a first
// visit): the map then goes on with carto's own layers only.
export async function loadStreets(fileUrl, mapLibre) {
  try {
    const [, style, ok] = await Promise.all([
      script(SCRIPT),
      fetch(STYLE).then((response) => (response.ok ? response.json() : Promise.reject(new Error(STYLE)))),
      mapLibre,
    ]);
    if (!ok) return null;
    maplibregl.addProtocol("pmtiles", new pmtiles.Protocol().tile);
    const url = new URL(fileUrl, location.href).href;
    const sources = {};
    for (const [id, source] of Object.entries(style.sources)) sources[id] = { ...source, url: `pmtiles://${url}` };
    return { sources, layers: style.layers };
  } catch (error) {
    console.warn("street basemap not loaded", error);
    return null;
  }
}
