// The resident's page: wires the map, the pin flow, the card, "my pins", languages and the offline queue.
// The first screen (the bar, "+" and the whole pin flow) needs neither MapLibre nor the map's data: MapLibre
// loads after the first paint and the flow works on a stand-in map until it is there (lazymap.js).
import { request } from "./api.js";
import { setupCard } from "./card.js";
import { setupFlow } from "./flow.js";
import { detectLanguage, savedEasy, setEasy, setLanguage, t, lang } from "./i18n.js";
import { lazyMap } from "./lazymap.js";
import { firstPaint, mapLibre } from "./load_maplibre.js";
import { colourPins, createMap, loadPins, METROPOLE_BOUNDS, setActorsVisible } from "./map.js";
import { renderMine } from "./mypins.js";
import { heldForReview, onSettled, retryNow } from "./queue.js";
import { setThemes, themes } from "./themes.js";

const byId = (id) => document.getElementById(id);

let toastTimer = null;
function toast(message) {
  const el = byId("toast");
  el.textContent = message;
  el.classList.add("on");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("on"), 4000);
}

async function main() {
  setEasy(savedEasy());
  byId("easy").setAttribute("aria-pressed", String(savedEasy()));
  const language = detectLanguage();
  byId("lang").value = language;
  const [, themesRes] = await Promise.all([setLanguage(language), request("/api/themes/").catch(() => null)]);
  setThemes((themesRes && themesRes.body) || []);

  const lazy = lazyMap(byId("map"), METROPOLE_BOUNDS);
  const map = lazy.map;
  const flow = setupFlow({ map, sheet: byId("flow"), addButton: byId("add"), centrePin: byId("centre-pin"), toast });

  const refresh = debounce(() => loadPins(map, (tooMany) => { byId("zoom-hint").hidden = !tooMany; }), 300);
  const styled = new Promise((resolve) => map.on("load", resolve));
  map.on("load", () => {
    colourPins(map, themes);
    refresh();
  });
  map.on("moveend", refresh);
  // The street basemap, when the server has one: its reader and style download beside MapLibre (basemap.js).
  const streetsFile = byId("map").dataset.basemapPmtiles;
  const streets = streetsFile
    ? firstPaint.then(() => import("./basemap.js"))
      .then((basemap) => basemap.loadStreets(streetsFile, mapLibre)).catch(() => null)
    : null;
  Promise.all([mapLibre, streets]).then(([ok, streetsLoaded]) => {
    if (!ok) return mapFailed();
    let real;
    try {
      real = createMap(byId("map"), streetsLoaded);
    } catch (error) {
      mapFailed(); // no WebGL, most often: the page works without the map
      throw error;
    }
    lazy.attach(real);
    // Pins are tapped on the map: their card comes with it.
    setupCard({ map: real, section: byId("card"), toast });
    // The quartiers' names, a picked one's outline and the sheet a tap inside one opens (quartier.js), once
    // the style is there; not on the first screen's path, and the map works on without it (offline).
    const styleLoaded = new Promise((resolve) => real.once("load", resolve));
    Promise.all([import("./quartier.js"), styleLoaded]).then(([quartier]) => {
      quartier.addQuartierLayers(real);
      quartier.setupQuartier({ map: real, section: byId("quartier"), flowSheet: byId("flow"), card: byId("card"),
        addButton: byId("add"), find: byId("find"), findButton: byId("find-open") });
    }).catch(() => {});
    real.once("load", () => { byId("map-status").hidden = true; });
    // After the first screen is drawn: the worker's precache must not take the 3G link from the map's data.
    real.once("idle", registerServiceWorker);
  });

  byId("lang").addEventListener("change", async (e) => {
    await setLanguage(e.target.value);
    if (!byId("flow").hidden) flow.start();
  });
  byId("easy").addEventListener("click", (e) => {
    const on = !document.documentElement.classList.contains("easy");
    setEasy(on);
    e.currentTarget.setAttribute("aria-pressed", String(on));
    setLanguage(lang);
  });
  byId("actors-toggle").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    styled.then(() => setActorsVisible(map, on));
  });
  const mine = byId("mine");
  byId("mine-open").addEventListener("click", () => {
    mine.hidden = false;
    mine.querySelector("h2").focus();
    renderMine(mine);
  });
  mine.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=close]")) mine.hidden = true;
  });

  if (byId("structure")) fillStructures(byId("structure"));

  // Pins queued on an earlier visit (or while offline) leave as soon as they can. One outcome per pin: a pin
  // the server holds for review (status "pending") is not "sent" but "being checked", as the done step says.
  onSettled((outcome) => {
    if (outcome.ok) {
      toast(t(heldForReview(outcome) ? "status.pending" : "done.sent"));
      refresh();
    }
  });
  retryNow();
}

function mapFailed() {
  const status = byId("map-status");
  status.dataset.i18n = "load.map_failed"; // kept by a language change
  status.textContent = t("load.map_failed");
  registerServiceWorker();
}

function registerServiceWorker() {
  // The worker precaches the words of this language only (sw.js); its script is the same for every language.
  if ("serviceWorker" in navigator) navigator.serviceWorker.register(`/sw.js?lang=${lang}`).catch(() => {});
}

// The aidant's structures: the located actors of the Métropole, the last one used preselected.
async function fillStructures(select) {
  const placeholder = new Option(t("aidant.structure_choose"), "");
  select.append(placeholder);
  try {
    const res = await request("/api/actors/?mgp=true&bbox=2.14,48.64,2.62,49.02");
    const actors = (res.body.features || []).map((f) => f.properties);
    actors.sort((a, b) => a.name.localeCompare(b.name));
    for (const a of actors) select.append(new Option(`${a.name} (${a.commune_name || ""})`, a.id));
  } catch {
    // offline: only the remembered structure below
  }
  const saved = localStorage.getItem("carto.structure");
  if (saved && ![...select.options].some((o) => o.value === saved)) select.append(new Option(saved, saved));
  if (saved) select.value = saved;
}

function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

main();
