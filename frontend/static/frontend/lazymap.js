// The map before MapLibre has arrived. maplibre-gl.js (about 270 KB gzip) loads after the first screen, so the
// pin flow gets this stand-in at once and the real map behind it once created (attach):
// - questions get the answer a map of `bounds` would give with nothing drawn yet: getCenter(), getZoom(),
//   no rendered features, not loaded;
// - camera moves (Ma position, a place picked in the search) move the stand-in's view and fire "moveend",
//   and the real map starts from that view;
// - listeners (on/once) are kept and handed to the real map; any other call (a layer's visibility…) waits
//   for the real map's style.
// Once the map is attached every call goes straight to it.
const TILE_SIZE = 512; // MapLibre's world is 512 px wide at zoom 0

const mercatorX = (lng) => (lng + 180) / 360;
const mercatorY = (lat) => (1 - Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) / Math.PI) / 2;
const latitude = (y) => (360 / Math.PI) * Math.atan(Math.exp((1 - 2 * y) * Math.PI)) - 90;

// The centre and zoom at which MapLibre shows `bounds` in the container (as the Map's `bounds` option).
function cameraFor(bounds, container, { padding = 0, maxZoom = 22 } = {}) {
  const [[west, south], [east, north]] = bounds;
  const x0 = mercatorX(west), x1 = mercatorX(east), y0 = mercatorY(north), y1 = mercatorY(south);
  const pad = typeof padding === "number" ? padding : 0;
  const width = Math.max(1, container.clientWidth - 2 * pad);
  const height = Math.max(1, container.clientHeight - 2 * pad);
  const scale = Math.min(width / ((x1 - x0) * TILE_SIZE || 1), height / ((y1 - y0) * TILE_SIZE || 1));
  return { center: [(west + east) / 2, latitude((y0 + y1) / 2)], zoom: Math.min(Math.log2(scale), maxZoom) };
}

const lngLat = ([lng, lat]) => ({ lng, lat, toArray: () => [lng, lat] });

export function lazyMap(container, bounds) {
  let real = null;
  const view = { ...cameraFor(bounds, container), moved: false };
  const kept = []; // [method, args] of on/once, handed to the real map
  const waiting = []; // [method, args] of other calls, made once the real map's style has loaded

  function fire(type) {
    for (const [method, args] of [...kept]) {
      if (args.length !== 2 || args[0] !== type) continue; // layer listeners need a drawn map
      if (method === "once") kept.splice(kept.findIndex((k) => k[1] === args), 1);
      args[1]({ type, target: proxy });
    }
  }

  function move({ center, zoom }) {
    if (center) view.center = Array.isArray(center) ? center : [center.lng, center.lat];
    if (zoom !== undefined) view.zoom = zoom;
    view.moved = true;
    fire("move");
    fire("moveend");
    return proxy;
  }

  const before = {
    on: (...args) => { kept.push(["on", args]); return proxy; },
    once: (...args) => { kept.push(["once", args]); return proxy; },
    off: (...args) => {
      const i = kept.findIndex(([, a]) => a.length === args.length && a.every((x, j) => x === args[j]));
      if (i >= 0) kept.splice(i, 1);
      return proxy;
    },
    getCenter: () => lngLat(view.center),
    getZoom: () => view.zoom,
    getBounds: () => ({ toArray: () => bounds }),
    jumpTo: move,
    easeTo: move,
    flyTo: move,
    fitBounds: (box, options) => move(cameraFor(box, container, options)),
    project: () => ({ x: container.clientWidth / 2, y: container.clientHeight / 2 }),
    queryRenderedFeatures: () => [],
    querySourceFeatures: () => [],
    loaded: () => false,
    isMoving: () => false,
    getCanvas: () => container,
  };

  const proxy = new Proxy({}, {
    get(_, name) {
      if (real) {
        const value = real[name];
        return typeof value === "function" ? value.bind(real) : value;
      }
      if (typeof name !== "string" || name === "then") return undefined; // never mistaken for a promise
      if (name in before) return before[name];
      return (...args) => { waiting.push([name, args]); };
    },
  });

  function attach(map) {
    for (const [method, args] of kept) map[method](...args);
    map.once("load", () => {
      for (const [name, args] of waiting.splice(0)) map[name](...args);
    });
    real = map;
    if (view.moved) map.jumpTo({ center: view.center, zoom: view.zoom });
  }

  return { map: proxy, attach };
}
