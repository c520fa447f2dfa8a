// The quartiers (QPV) on the resident's map, so a resident can tell which one they are in, find it and see what
// is said there:
// - their names, from the orientation tiles' `qpv_labels` (one point per QPV, carto/sql/orientation_tiles.py),
//   the larger quartiers first when names collide, and a light tint that marks their inside;
// - a search on the map itself (the bar's magnifier: the "where" step's search, places.js, outside the pin
//   flow): the place picked is framed, and a quartier opens its sheet;
// - the outline of a quartier picked in either search (places.js says so with a "carto:place" event) or
//   tapped, drawn thick over the dashed ones;
// - a tap inside a quartier (not on a pin or a grouped dot, and not while a pin is being placed) opens its
//   sheet from GET /api/stats/qpv/{code}/needs/: name, commune(s) or arrondissements, 2024 population, pins and
//   "moi aussi" here, its top needs (pictogram and the need's words) with how many other quartiers and
//   communes voice each, and a button to pin a need right here.
// Loaded by app.js once the map exists (a dynamic import: not on the first screen's path).
import { request } from "./api.js";
import { lang, namesLine, plural, t } from "./i18n.js";
import { icon, placeIcons, QPV_COLOUR } from "./map.js";
import { setupPlaceSearch } from "./places.js";
import { paintPicto, theme } from "./themes.js";

const NAMES_MIN_ZOOM = 11; // carto/sql/orientation_tiles.py QPV_LABELS_MIN_ZOOM
const ADD_ZOOM = 16; // the "where" step's street zoom (flow.js "Ma position")
const TAP_SLOP_PX = 10; // a finger that lands this close to a pin meant the pin
const TAPPABLE = ["pins", "pin-cells", "actors"];
const NOTHING = ["==", ["get", "code"], ""];

// Under the rail lines: the tint and the picked outline; over the station names: the quartiers' names.
export function addQuartierLayers(map) {
  map.addLayer({ id: "qpv-fill", type: "fill", source: "orientation", "source-layer": "qpv",
    paint: { "fill-color": QPV_COLOUR, "fill-opacity": 0.06 } }, "qpv-outline");
  map.addLayer({ id: "qpv-picked-fill", type: "fill", source: "orientation", "source-layer": "qpv", filter: NOTHING,
    paint: { "fill-color": QPV_COLOUR, "fill-opacity": 0.14 } }, "rail-lines");
  map.addLayer({ id: "qpv-picked", type: "line", source: "orientation", "source-layer": "qpv", filter: NOTHING,
    layout: { "line-join": "round" }, paint: { "line-color": QPV_COLOUR, "line-width": 4 } }, "rail-lines");
  // The browser's own font (no glyph server), dark on a wide white halo: readable on the bare map and on the
  // operator's streets alike.
  map.addLayer({ id: "qpv-names", type: "symbol", source: "orientation", "source-layer": "qpv_labels",
    minzoom: NAMES_MIN_ZOOM,
    layout: { "text-field": ["get", "name"], "text-font": ["sans-serif"], "text-max-width": 9,
      "text-size": ["interpolate", ["linear"], ["zoom"], NAMES_MIN_ZOOM, 11, 14, 14, 16, 16],
      "symbol-sort-key": ["-", 0, ["get", "population"]], "text-padding": 4 },
    paint: { "text-color": "#5e1a47", "text-halo-color": "#ffffff", "text-halo-width": 2, "text-halo-blur": 0.5 } },
  "actors");
}

export function highlightQuartier(map, code) {
  const filter = code ? ["==", ["get", "code"], code] : NOTHING;
  map.setFilter("qpv-picked", filter);
  map.setFilter("qpv-picked-fill", filter);
}

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // data from the API: never innerHTML
  return node;
};

// A count as the API gives it: a number in the page's digits, or "<5" kept left-to-right in an Arabic
// sentence (an isolate: the bidi algorithm would otherwise mirror it into "5>").
const shown = (n) => (typeof n === "number" ? new Intl.NumberFormat(lang).format(n) : `\u2066${n}\u2069`);
const counted = (key, n) => plural(key, typeof n === "number" ? n : 5, { n: shown(n) });

// "Aussi dit dans 2 autres quartiers et 1 autre commune", or "Dit seulement ici pour l'instant".
export function elsewhereSentence({ qpv, communes }) {
  const parts = [];
  if (qpv) parts.push(plural("quartier.other_qpv", qpv, { n: shown(qpv) }));
  if (communes) parts.push(plural("quartier.other_communes", communes, { n: shown(communes) }));
  if (!parts.length) return t("quartier.only_here");
  const places = parts.length === 2 ? t("quartier.and", { a: parts[0], b: parts[1] }) : parts[0];
  return t("quartier.elsewhere", { places });
}

function needItem(need) {
  const li = el("li", "card-item quartier-need");
  li.dataset.cluster = String(need.id);
  const mark = el("span", "picto");
  mark.setAttribute("aria-hidden", "true");
  paintPicto(mark, need.theme);
  const body = el("div");
  const th = theme(need.theme);
  body.append(el("p", "card-theme quartier-need-label", need.label || (th ? th.labels[lang] || th.labels.fr : "")));
  const here = [t("quartier.need_here", { pins: counted("count.pins", need.pins) })];
  if (need.supports) here.push(t("quartier.metoo", { people: counted("count.people", need.supports) }));
  body.append(el("p", "hint quartier-need-here", here.join(" · ")));
  const spread = el("p", "quartier-elsewhere");
  spread.dataset.qpv = String(need.elsewhere.qpv);
  spread.dataset.communes = String(need.elsewhere.communes);
  spread.append(icon("shared"), el("span", "", elsewhereSentence(need.elsewhere)));
  body.append(spread);
  li.append(mark, body);
  return li;
}

// "Paris 19e · Paris 20e" for a Paris quartier (its commune is Paris), else its communes.
function placeLine(qpv) {
  const names = qpv.arrondissements.length
    ? qpv.arrondissements.map((a) => a.name.replace(/ Arrondissement$/, ""))
    : qpv.communes.map((c) => c.name);
  return namesLine([t("place.kind.qpv"), ...names]);
}

function figure(name, iconName, words) {
  const p = el("p", `quartier-figure quartier-${name}`);
  p.append(icon(iconName), el("span", "", words));
  return p;
}

export function setupQuartier({ map, section, flowSheet, card, addButton, find, findButton }) {
  const $ = (sel) => section.querySelector(sel);
  let opened = 0; // the last sheet asked for: a slow answer for an older tap is dropped
  let tapped = null; // where the resident tapped: "Ajouter ici" starts the pin there
  let framed = null; // the box of a quartier found by the search: framed above its sheet
  $("#quartier-add").prepend(icon("add"));
  $("#quartier-mark").append(icon("quartier"));

  function close() {
    section.hidden = true;
    delete section.dataset.code;
    highlightQuartier(map, null);
  }

  let shownBody = null; // the answer on screen, said again in a new language
  new MutationObserver(() => { if (shownBody && !section.hidden) render(shownBody); })
    .observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });

  function render(body) {
    shownBody = body;
    const q = body.qpv;
    $("#quartier-title").textContent = q.name;
    $("#quartier-place").textContent = placeLine(q);
    const figures = [];
    if (q.population) figures.push(figure("inhabitants", "inhabitants", plural("quartier.inhabitants", q.population, { n: shown(q.population) })));
    if (body.pins) figures.push(figure("pins", "here", counted("count.pins", body.pins))); // none: "quartier.none" says it
    if (body.supports) figures.push(figure("metoo", "metoo", t("quartier.metoo", { people: counted("count.people", body.supports) })));
    $("#quartier-figures").replaceChildren(...figures);
    $("#quartier-needs").replaceChildren(...body.needs.map(needItem));
    $("#quartier-needs-title").hidden = !body.needs.length;
    $("#quartier-none").hidden = body.needs.length > 0;
  }

  async function open(code, name, at, bbox = null) {
    const ticket = ++opened;
    tapped = at;
    framed = bbox;
    card.hidden = true; // one sheet at a time
    find.hidden = true;
    highlightQuartier(map, code);
    section.dataset.code = code;
    delete section.dataset.loaded;
    shownBody = null;
    // What the map already knows, at once; the figures follow.
    $("#quartier-title").textContent = name;
    $("#quartier-place").textContent = t("place.kind.qpv");
    $("#quartier-figures").replaceChildren();
    $("#quartier-needs").replaceChildren();
    $("#quartier-needs-title").hidden = true;
    $("#quartier-none").hidden = true;
    $("#quartier-error").hidden = true;
    section.hidden = false;
    $("#quartier-title").focus();
    try {
      const res = await request(`/api/stats/qpv/${encodeURIComponent(code)}/needs/`);
      if (ticket !== opened) return;
      if (res.status !== 200 || !res.body) throw new Error(String(res.status));
      render(res.body);
      section.dataset.loaded = "true";
    } catch {
      if (ticket !== opened) return;
      $("#quartier-error").hidden = false; // offline: the name alone, and why
    }
    keepInView();
  }

  // The quartier stays in sight above its sheet: the place tapped moves to the middle of the map left free.
  function keepInView() {
    if (!tapped || section.hidden) return;
    const free = map.getContainer().clientHeight - section.offsetHeight;
    if (framed) {
      const top = findButton.getBoundingClientRect().bottom + 8; // under the bar
      const bottom = section.offsetHeight + 8;
      if (free - top > 80) {
        map.fitBounds([[framed[0], framed[1]], [framed[2], framed[3]]],
          { padding: { top, bottom, left: 16, right: 16 }, maxZoom: ADD_ZOOM, duration: 300 });
        return;
      }
    }
    const y = map.project(tapped).y;
    if (y > free - 24) map.panBy([0, y - free / 2], { duration: 300 });
  }

  map.on("click", (e) => {
    if (!flowSheet.hidden) return; // placing a pin: the map is only moved under the centre pin
    const { x, y } = e.point;
    const near = [[x - TAP_SLOP_PX, y - TAP_SLOP_PX], [x + TAP_SLOP_PX, y + TAP_SLOP_PX]];
    const layers = TAPPABLE.filter((id) => map.getLayer(id));
    if (map.queryRenderedFeatures(near, { layers }).length) return close(); // the pin's card opens instead
    const hit = map.queryRenderedFeatures(e.point, { layers: ["qpv-fill"] })[0];
    if (!hit) return close();
    open(hit.properties.code, hit.properties.name, e.lngLat);
  });

  // A place picked in a search is framed by places.js; a quartier's outline is drawn here, and a quartier found
  // with the map's own search opens its sheet.
  const search = setupPlaceSearch({ map, input: find.querySelector("input"), list: find.querySelector("[role=listbox]"),
    status: find.querySelector("[role=status]") });
  document.addEventListener("carto:place", (e) => {
    const place = e.detail;
    highlightQuartier(map, place.kind === "qpv" ? place.code : null);
    if (!find.contains(e.target)) return;
    find.hidden = true;
    if (place.kind === "qpv") open(place.code, place.name, [place.lon, place.lat], place.bbox);
  });
  placeIcons(findButton);
  findButton.hidden = false;
  findButton.addEventListener("click", () => {
    close();
    card.hidden = true;
    search.reset();
    find.hidden = false;
    find.querySelector("input").focus();
  });
  find.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=close]")) find.hidden = true;
  });

  section.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=close]")) close();
    if (e.target.closest("#quartier-add")) {
      const [at, code] = [tapped, section.dataset.code];
      close();
      if (at) map.jumpTo({ center: at, zoom: Math.max(map.getZoom(), ADD_ZOOM) });
      addButton.click(); // the pin flow, its centre pin where the resident tapped, inside the quartier
      highlightQuartier(map, code); // still outlined while the pin is placed
    }
  });
  // Starting a pin another way closes the sheet too.
  addButton.addEventListener("click", () => {
    if (!section.hidden) close();
    find.hidden = true;
  });
  return { open, close };
}
