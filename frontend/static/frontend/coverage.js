// /coverage/ for officials: where widespread needs have no Grand Paris response yet.
// Table from /api/coverage/ (gaps, and responses with the clusters they cover); map of the gaps' pins from
// /api/coverage/gaps.geojson over carto's own territory tiles; each cluster opens at #cluster-{id} from
// /api/clusters/{id}/; a signed-in curator says of each pin there whether it is the same need (curate.js).
// Every word from the i18n catalogues; every piece of data set with textContent.
import { curateButtons } from "./curate.js";
import {
  $, BACKGROUND, EMPTY, dashboardMap, el, formatNumber, getJSON, mapLoaded, outlineLayers, startLanguage, themeName,
} from "./dashboard.js";
import { clusterSentence, t } from "./i18n.js";
import { setThemes } from "./themes.js";

const PALETTE = ["#b3261e", "#3d3d6b", "#00707f", "#8a4b08", "#6a1b9a", "#2e7d32", "#c2185b", "#455a64"];
const main = document.querySelector("main");
const state = { minimum: Number(main.dataset.defaultMin) || 2, coverage: null, points: EMPTY, selected: null };
const curator = main.dataset.curator === "1"; // moderators and associations (the view asks carto's is_curator)

const colourOf = (id) => PALETTE[id % PALETTE.length];
const number = (n) => formatNumber(n || 0);
const maybe = (key, fallback) => (t(key) === key ? fallback : t(key));
const distanceText = (m) =>
  m < 1000 ? t("card.distance_m", { m: Math.round(m) }) : t("card.distance_km", { km: (m / 1000).toFixed(1) });

const map = dashboardMap($("coverage-map"), {
  sources: { gaps: { type: "geojson", data: EMPTY } },
  layers: [
    BACKGROUND,
    { id: "communes-fill", type: "fill", source: "territories", "source-layer": "communes",
      paint: { "fill-color": "#ffffff", "fill-opacity": 0.75 } },
    ...outlineLayers(),
    { id: "gaps", type: "circle", source: "gaps",
      paint: {
        "circle-color": ["to-color", ["get", "colour"]],
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 4, 14, 8],
        "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 1.2,
      } },
    { id: "gaps-selected", type: "circle", source: "gaps", filter: ["==", ["get", "cluster"], -1],
      paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 8, 14, 13],
        "circle-stroke-color": "#ffbf47", "circle-stroke-width": 3 } },
  ],
});
window.cartoCoverage = map; // for tests and debugging
const mapReady = mapLoaded(map);

map.on("click", "gaps", (e) => { window.location.hash = `cluster-${e.features[0].properties.cluster}`; });
map.on("mouseenter", "gaps", () => { map.getCanvas().style.cursor = "pointer"; });
map.on("mouseleave", "gaps", () => { map.getCanvas().style.cursor = ""; });

function fillMinimum() {
  const select = $("min-territories");
  select.replaceChildren();
  for (let n = 1; n <= 8; n += 1) select.append(new Option(t("coverage.min_option", { n }), String(n)));
  select.value = String(state.minimum);
}

// The table and the map; then the cluster named by the address, unless its detail is already shown (after a
// curator's decision, whose answer is the detail).
async function load({ detail = true } = {}) {
  document.body.dataset.state = "loading";
  try {
    const [cov, points] = await Promise.all([
      getJSON(`/api/coverage/?min_territories=${state.minimum}`),
      getJSON(`/api/coverage/gaps.geojson?min_territories=${state.minimum}`),
    ]);
    state.coverage = cov;
    state.points = points;
  } catch {
    $("gaps-count").textContent = t("coverage.error");
    document.body.dataset.state = "error";
    return;
  }
  render();
  await mapReady;
  for (const f of state.points.features) f.properties.colour = colourOf(f.properties.cluster);
  map.getSource("gaps").setData(state.points);
  document.body.dataset.state = "ready";
  document.body.dataset.gaps = String(state.coverage.gaps.length);
  if (detail) select();
  else highlight(state.selected);
}

function render() {
  if (!state.coverage) return;
  const { gaps, responses } = state.coverage;
  $("gaps-count").textContent = gaps.length ? t("coverage.gaps_count", { n: gaps.length }) : t("coverage.none");
  const body = $("gaps").querySelector("tbody");
  body.replaceChildren(...gaps.map(gapRow));
  const rbody = $("responses").querySelector("tbody");
  rbody.replaceChildren(...responses.map(responseRow));
}

function gapRow(c) {
  const tr = el("tr");
  tr.dataset.cluster = String(c.id);
  const name = el("td");
  const swatch = el("span", "swatch");
  swatch.style.background = colourOf(c.id);
  swatch.setAttribute("aria-hidden", "true");
  const link = el("a", "", c.label || t("coverage.open"));
  link.href = `#cluster-${c.id}`;
  name.append(swatch, link);
  tr.append(
    name,
    el("td", "", (c.themes || []).map(themeName).join(", ")),
    el("td", "num", number(c.territory_count)),
    el("td", "num", number(c.pin_count)),
    el("td", "num", number(c.support_count)),
  );
  return tr;
}

function responseRow({ response, clusters }) {
  const tr = el("tr");
  tr.dataset.response = response.slug;
  const name = el("td");
  if (/^https?:\/\//i.test(response.url || "")) {
    const a = el("a", "", response.name);
    a.href = response.url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    name.append(a);
  } else name.textContent = response.name;
  const covers = el("td");
  if (!clusters.length) covers.textContent = t("coverage.covers_none");
  clusters.forEach((c, i) => {
    if (i) covers.append(document.createTextNode(" · "));
    const a = el("a", "", c.label);
    a.href = `#cluster-${c.id}`;
    covers.append(a);
  });
  tr.append(name, el("td", "", response.operator || ""), el("td", "", maybe(`coverage.scale.${response.scale}`, response.scale)), covers);
  return tr;
}

// The cluster named by the address (#cluster-12): highlighted in the table and on the map, its detail shown.
async function select() {
  const match = /^#cluster-(\d+)$/.exec(window.location.hash);
  const id = match ? Number(match[1]) : null;
  state.selected = id;
  highlight(id);
  const detail = $("detail");
  if (id === null) {
    detail.hidden = true;
    return;
  }
  const points = state.points.features.filter((f) => f.properties.cluster === id).map((f) => f.geometry.coordinates);
  if (points.length) {
    const bounds = points.reduce((b, p) => b.extend(p), new maplibregl.LngLatBounds(points[0], points[0]));
    map.fitBounds(bounds, { padding: 60, maxZoom: 14, duration: 400 });
  }
  let cluster;
  try {
    cluster = await getJSON(`/api/clusters/${id}/`);
  } catch {
    cluster = null;
  }
  if (state.selected !== id) return;
  if (!cluster) {
    detail.replaceChildren(el("p", "error", t("coverage.error")));
    detail.hidden = false;
    return;
  }
  renderDetail(cluster);
}

function highlight(id) {
  document.querySelectorAll("#gaps tr.on").forEach((tr) => tr.classList.remove("on"));
  const row = document.querySelector(`#gaps tr[data-cluster="${id}"]`);
  if (row) row.classList.add("on");
  map.setFilter("gaps-selected", ["==", ["get", "cluster"], id ?? -1]);
}

function section(title, items) {
  const box = el("div");
  box.append(el("h3", "", title));
  if (!items.length) box.append(el("p", "hint", t("coverage.detail_none")));
  else {
    const ul = el("ul");
    ul.append(...items);
    box.append(ul);
  }
  return box;
}

// What residents say: each pin's text and, for a curator, "same need" / "not the same need".
function pinItem(clusterId, p) {
  if (!curator) {
    const li = el("li", "quote", p.text);
    li.dataset.pin = String(p.id);
    return li;
  }
  const li = el("li", "curated");
  li.dataset.pin = String(p.id);
  const text = el("p", "quote", p.text);
  text.id = `pin-${p.id}-text`;
  li.append(text, curateButtons({
    clusterId,
    pinId: p.id,
    describedBy: text.id,
    onDecided: (cluster, same) => {
      if (state.selected !== cluster.id) return;
      renderDetail(cluster, t(same ? "curate.saved_same" : "curate.saved_apart"));
      $("detail").querySelector(".cov-status").focus(); // the pressed button may be gone: say what happened
      load({ detail: false }); // counts and points changed
    },
    onFailed: () => { $("detail").querySelector(".cov-status").textContent = t("curate.error"); },
  }));
  return li;
}

function renderDetail(c, message = "") {
  const detail = $("detail");
  detail.dataset.cluster = String(c.id);
  const communes = (c.territories || []).filter((x) => x.kind === "commune" || x.kind === "arrondissement");
  const head = el("h2", "", c.label);
  head.tabIndex = -1;
  const json = el("a", "", t("coverage.detail_json"));
  json.href = `/api/clusters/${c.id}/`;
  const status = el("p", "cov-status", message);
  status.tabIndex = -1;
  detail.replaceChildren(
    head,
    el("p", "cluster-line", clusterSentence(c)),
    status,
    section(t("coverage.detail_territories"), communes.map((x) => el("li", "", `${x.name} (${x.pin_count})`))),
    section(t("coverage.detail_pins"), (c.pins || []).slice(0, 6).map((p) => pinItem(c.id, p))),
    section(t("coverage.detail_actors"), (c.actors || []).map((a) => el("li", "", `${a.name} — ${distanceText(a.distance_m || 0)}`))),
    section(t("coverage.detail_suggested"), ((c.responses && c.responses.suggested) || []).map((r) => el("li", "", `${r.name} (${r.operator || ""})`))),
    json,
  );
  detail.hidden = false;
}

async function start() {
  const [, themes] = await Promise.all([
    startLanguage("coverage.title", () => {
      fillMinimum();
      render();
      select();
    }),
    getJSON("/api/themes/").catch(() => null),
  ]);
  setThemes(themes || []);
  const fromUrl = Number(new URLSearchParams(window.location.search).get("min_territories"));
  if (fromUrl >= 1) state.minimum = Math.min(Math.floor(fromUrl), 8);
  fillMinimum();
  $("min-territories").addEventListener("change", (e) => {
    state.minimum = Number(e.target.value);
    const url = new URL(window.location.href);
    url.searchParams.set("min_territories", String(state.minimum));
    window.history.replaceState(null, "", url);
    load();
  });
  window.addEventListener("hashchange", select);
  await load();
}

start();
