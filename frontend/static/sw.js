// carto's service worker: the resident's page, its modules, pictograms and catalogues work without network.
// Static files: cache first. The page and themes: network first, the cached copy after NETWORK_WAIT_MS or on
// failure. Writes are never intercepted: the page's IndexedDB queue owns them.
// VERSION is written by the server (frontend/views/home.py) from the content of our static files: any change
// to one gives a new worker, which precaches afresh, so a returning phone never keeps an old module.
const VERSION = "carto-__VERSION__";
// On a stalled link (a phone between two cells) a network-first fetch can hang for minutes: past this the
// cached copy answers, and the network's answer, if it comes, refreshes the cache for the next visit.
const NETWORK_WAIT_MS = 3000;
// The theme pictograms are in the page itself (an inline sprite); these three are <img>s of its markup.
const PICTOS = ["participer-informer", "need", "proposal"];
const MODULES = ["app", "api", "card", "flow", "i18n", "lazymap", "load_maplibre", "map", "mypins", "places", "queue",
  "themes", "quartier"];
const LANGUAGES = ["fr", "en", "ar", "zh"];
const asked = new URL(location.href).searchParams.get("lang");
const LANGUAGE = LANGUAGES.includes(asked) ? asked : "fr";
const SHELL = [
  "/",
  "/api/themes/",
  "/static/frontend/carto.css",
  "/static/vendor/maplibre-gl/maplibre-gl.js",
  "/static/vendor/maplibre-gl/maplibre-gl.css",
  ...MODULES.map((m) => `/static/frontend/${m}.js`),
  // The words of the page's language only (its registration says which, app.js): the three others would cost
  // a resident ~18 KB of a small data plan for nothing; a language chosen later is kept when first used.
  `/static/frontend/i18n/${LANGUAGE}.json`,
  ...PICTOS.map((p) => `/static/pictograms/${p}.svg`),
];
// Map data worth keeping for an offline visit (the outlines; pins come back with the network).
const NETWORK_FIRST = ["/", "/api/themes/", "/api/territories/"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate" && url.pathname === "/") {
    event.respondWith(networkFirst(request, "/"));
  } else if (NETWORK_FIRST.some((p) => p !== "/" && url.pathname.startsWith(p))) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

// A static file not precached (another language's words, the street basemap's reader) is kept once fetched.
async function cacheFirst(request) {
  const hit = await caches.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.status === 200) {
    const cache = await caches.open(VERSION);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request, key) {
  const cache = await caches.open(VERSION);
  const network = fetch(request).then((response) => {
    if (response.ok) cache.put(key || request, response.clone());
    return response;
  });
  network.catch(() => {}); // a late failure, once the cache has answered, is nobody's error
  // ignoreVary: DRF answers "Vary: Accept" and the page asks with another Accept than the precache did.
  const cached = () => cache.match(key || request, { ignoreVary: true });
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, NETWORK_WAIT_MS); })
    .then(cached).then((hit) => hit || network);
  try {
    return await Promise.race([network, late]);
  } catch (error) {
    const hit = await cached();
    if (hit) return hit;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
