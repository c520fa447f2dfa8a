// MapLibre GL JS (about 270 KB gzip) and its stylesheet, asked for once the page's first frame is on screen,
// so they never hold the first screen back; they download while the words and themes arrive.
const JS = new URL("../vendor/maplibre-gl/maplibre-gl.js", import.meta.url).href;
const CSS = new URL("../vendor/maplibre-gl/maplibre-gl.css", import.meta.url).href;
const HIDDEN_TAB_MS = 1000; // a tab opened in the background paints nothing: load anyway

function afterFirstPaint() {
  return new Promise((resolve) => {
    if (performance.getEntriesByType("paint").length) return resolve();
    const observer = new PerformanceObserver(() => { observer.disconnect(); resolve(); });
    observer.observe({ type: "paint", buffered: true });
    setTimeout(resolve, HIDDEN_TAB_MS);
  });
}

// A classic script that defines window.maplibregl: true once it has run, false if it could not load
// (offline on a first visit: the pin flow still works, without the map).
function load() {
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = CSS;
  document.head.append(css);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = JS;
    script.onload = () => resolve(Boolean(window.maplibregl));
    script.onerror = () => resolve(false);
    document.head.append(script);
  });
}

export const firstPaint = afterFirstPaint();
export const mapLibre = firstPaint.then(load);
