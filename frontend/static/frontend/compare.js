// /compare/ for associations: choose territories (QPV, communes, arrondissements, EPT) on the map or by name,
// then bars per theme (a rate per 1,000, 10,000 or 100,000 inhabitants, the count on hover and focus), a
// monthly trend per territory, each QPV against the rest of its commune, and the table, exported as CSV and
// PNG. The address holds the selection and the filters, so a comparison can be shared.
// Data: /api/stats/compare/?series=month, /api/stats/qpv/{code}/, /api/territories/?kind= (outlines),
// /api/themes/; the territories' names are in the page.
import { barChart, columnChart, seriesMax } from "./charts.js";
import { allRates, kindText, renderTable, tableCsv, themesOf } from "./compare_table.js";
import {
  $, BACKGROUND, EMPTY, OUTLINES, dashboardMap, download, el, fillThemeSelect, formatMonth, formatNumber, getJSON,
  mapLoaded, outlineLayers, pngBlob, rateUnit, startLanguage, svgImage, territoryNames, territoryShapes, themeName,
  trendText, unitText,
} from "./dashboard.js";
import { t } from "./i18n.js";
import { setThemes } from "./themes.js";

const DEFAULT = ["93010", "93071", "75056"]; // Bondy, Sevran, Paris
const LEVELS = ["qpv", "commune", "arrondissement", "ept"];
const MAX_COMPARED = 12; // carto.stats.comparisons.MAX_COMPARED
const MONTHS_OFFERED = 36;
const state = { codes: [], level: "qpv", theme: "", from: "", to: "", rows: [], qpv: [], names: {}, themes: [] };

// --- The address ----------------------------------------------------------------------------------------

function readAddress() {
  const params = new URLSearchParams(location.search);
  const codes = (params.get("territories") || "").split(",").map((c) => c.trim()).filter(Boolean);
  state.codes = codes.length ? codes.slice(0, MAX_COMPARED) : DEFAULT;
  state.level = LEVELS.includes(params.get("level")) ? params.get("level") : "qpv";
  state.theme = params.get("theme") || "";
  state.from = /^\d{4}-\d{2}$/.test(params.get("from") || "") ? params.get("from") : "";
  state.to = /^\d{4}-\d{2}$/.test(params.get("to") || "") ? params.get("to") : "";
}

function writeAddress() {
  const params = new URLSearchParams();
  params.set("territories", state.codes.join(","));
  params.set("level", state.level);
  if (state.theme) params.set("theme", state.theme);
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

// The API's filters: a month "from" starts on its first day; "to" ends where the next month starts.
function filterQuery() {
  const params = new URLSearchParams();
  if (state.theme) params.set("theme", state.theme);
  if (state.from) params.set("since", `${state.from}-01`);
  if (state.to) {
    const [y, m] = state.to.split("-").map(Number);
    params.set("until", `${m === 12 ? y + 1 : y}-${String(m === 12 ? 1 : m + 1).padStart(2, "0")}-01`);
  }
  return params;
}

// --- Names: the search box and the chips ----------------------------------------------------------------

const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[-'’]/g, " ").trim();
const nameOf = (code) => (state.names[code] ? state.names[code].name : code);

function loadNames() {
  for (const { code, name, kind } of territoryNames()) state.names[code] = { name, kind };
  fillNames();
}

function fillNames() {
  const options = Object.entries(state.names)
    .sort(([, a], [, b]) => a.name.localeCompare(b.name, "fr"))
    .map(([code, { name, kind }]) => {
      const option = el("option");
      option.value = `${name} (${code})`;
      option.label = kindText(kind);
      return option;
    });
  $("names").replaceChildren(...options);
}

// The territory a typed text names: "Name (CODE)" from the list, a code, an exact name, then the first
// name starting with it, then one containing it (communes before arrondissements, EPT and QPV).
function findTerritory(text) {
  const code = (/\(([^()]+)\)\s*$/.exec(text) || [])[1] || text.trim();
  if (state.names[code]) return code;
  const query = fold(text.replace(/\([^()]*\)\s*$/, ""));
  if (!query) return null;
  const order = ["commune", "arrondissement", "ept", "qpv", "metropole"];
  const candidates = Object.entries(state.names).sort(
    ([, a], [, b]) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name, "fr"),
  );
  for (const test of [(n) => n === query, (n) => n.startsWith(query), (n) => n.includes(query)]) {
    const found = candidates.find(([, { name }]) => test(fold(name)));
    if (found) return found[0];
  }
  return null;
}

function toggle(code) {
  if (state.codes.includes(code)) state.codes = state.codes.filter((c) => c !== code);
  else if (state.codes.length >= MAX_COMPARED) {
    $("search-status").textContent = t("compare.too_many", { n: MAX_COMPARED });
    return;
  } else state.codes.push(code);
  $("search-status").textContent = "";
  refresh();
}

function renderChips() {
  $("chosen").replaceChildren(
    ...state.codes.map((code) => {
      const li = el("li");
      li.dataset.code = code;
      const button = el("button", "", `${nameOf(code)} ✕`);
      button.type = "button";
      button.setAttribute("aria-label", t("compare.remove", { name: nameOf(code) }));
      button.addEventListener("click", () => toggle(code));
      li.append(button);
      return li;
    }),
  );
}

// --- The map --------------------------------------------------------------------------------------------

const map = dashboardMap($("compare-map"), {
  sources: { choices: { type: "geojson", data: EMPTY } },
  layers: [
    BACKGROUND,
    { id: "choices-fill", type: "fill", source: "choices", paint: { "fill-color": "#ffffff", "fill-opacity": 0.85 } },
    { id: "choices-selected", type: "fill", source: "choices", filter: ["in", ["get", "code"], ["literal", []]],
      paint: { "fill-color": "#3d3d6b", "fill-opacity": 0.6 } },
    ...outlineLayers(),
    { id: "choices-line", type: "line", source: "choices",
      paint: { "line-color": OUTLINES.qpv.color, "line-width": ["case", ["==", ["get", "kind"], "qpv"], 1.2, 0] } },
    { id: "choices-hover", type: "line", source: "choices", filter: ["==", ["get", "code"], ""],
      paint: { "line-color": "#000", "line-width": 2.5 } },
  ],
});
window.cartoCompare = map; // for tests and debugging

async function showLevel() {
  const level = state.level;
  const features = (await territoryShapes(level)).features
    .filter((f) => f.geometry)
    .map((f) => ({ type: "Feature", geometry: f.geometry, properties: { code: f.id, name: f.properties.name, kind: level } }));
  await mapLoaded(map);
  if (level !== state.level) return; // another level was chosen meanwhile
  map.getSource("choices").setData({ type: "FeatureCollection", features });
  document.body.dataset.mapLevel = state.level;
}

function markChosen() {
  if (map.getLayer("choices-selected")) map.setFilter("choices-selected", ["in", ["get", "code"], ["literal", state.codes]]);
}

function sayHovered(feature) {
  const chosen = state.codes.includes(feature.properties.code);
  $("map-hover").textContent = t(chosen ? "compare.map_remove" : "compare.map_add", { name: feature.properties.name });
}

map.on("mousemove", "choices-fill", (event) => {
  const feature = event.features[0];
  if (!feature) return;
  map.setFilter("choices-hover", ["==", ["get", "code"], feature.properties.code]);
  map.getCanvas().style.cursor = "pointer";
  sayHovered(feature);
});
map.on("mouseleave", "choices-fill", () => {
  map.setFilter("choices-hover", ["==", ["get", "code"], ""]);
  map.getCanvas().style.cursor = "";
});
map.on("click", "choices-fill", (event) => {
  const feature = event.features[0];
  if (!feature) return;
  toggle(feature.properties.code);
  sayHovered(feature);
});

// --- Filters --------------------------------------------------------------------------------------------

const fillThemes = () => fillThemeSelect($("theme"), state.themes, state.theme);


// The last 36 months, named in the page's language ("mars 2025", "March 2025", "2025年3月").
function fillMonths() {
  const now = new Date();
  const months = [];
  for (let i = 0; i < MONTHS_OFFERED; i += 1) {
    const d = new Date(Date.UTC(now.getFullYear(), now.getMonth() - i, 1));
    months.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  const fill = (select, emptyKey, value) => {
    select.replaceChildren(new Option(t(emptyKey), ""), ...months.map((m) => new Option(formatMonth(m), m)));
    if (value && !months.includes(value)) select.append(new Option(formatMonth(value), value));
    select.value = value;
  };
  fill($("from"), "compare.from_start", state.from);
  fill($("to"), "compare.to_now", state.to);
}

function periodText() {
  if (!state.from && !state.to) return t("compare.period_all");
  if (state.from && state.to) return t("compare.period_between", { from: formatMonth(state.from), to: formatMonth(state.to) });
  return state.from ? t("compare.period_since", { from: formatMonth(state.from) }) : t("compare.period_until", { to: formatMonth(state.to) });
}

// --- Drawing --------------------------------------------------------------------------------------------

function chartBlock(title, svg) {
  const block = el("figure", "chart");
  block.append(el("figcaption", "", title), svg);
  return block;
}

function renderCharts() {
  const rows = state.rows;
  const unit = rateUnit(allRates(rows));
  $("charts-unit").textContent = t("compare.unit_note", { unit: unitText(unit) });
  const themes = themesOf(rows);
  const themeMax = Math.max(0, ...rows.flatMap((r) => Object.values(r.by_theme_per_1000).filter((v) => typeof v === "number")));
  const totalMax = Math.max(0, ...rows.map((r) => (typeof r.per_1000 === "number" ? r.per_1000 : 0)));
  const total = barChart({
    rows: rows.map((r) => ({ code: r.code, name: r.name, count: r.pins, per1000: r.per_1000 })),
    max: totalMax, unit, label: t("compare.all_themes"),
  });
  const blocks = [chartBlock(t("compare.all_themes"), total)];
  for (const slug of themes) {
    const svg = barChart({
      rows: rows.map((r) => ({ code: r.code, name: r.name, count: r.by_theme[slug] ?? 0, per1000: r.by_theme_per_1000[slug] ?? 0 })),
      max: themeMax, unit, label: themeName(slug),
    });
    const block = chartBlock(themeName(slug), svg);
    block.dataset.theme = slug;
    blocks.push(block);
  }
  $("charts").replaceChildren(...blocks);
}

function renderTrends() {
  const rows = state.rows;
  const max = seriesMax(rows);
  const unit = rateUnit(rows.flatMap((r) => (r.series || []).map((m) => m.per_1000)));
  $("trends-note").textContent = t("compare.trends_note", { unit: unitText(unit) });
  $("trends").replaceChildren(
    ...rows.map((r) => {
      const change = trendText(r.trend);
      const caption = change === "—" ? r.name : `${r.name} — ${t("compare.change")} ${change}`;
      const block = chartBlock(caption,
        columnChart({ name: r.name, series: r.series || [], population: r.population, max, unit }));
      block.dataset.code = r.code;
      return block;
    }),
  );
}

function renderQpv() {
  $("qpv-section").hidden = !state.qpv.length;
  $("qpv").replaceChildren(
    ...state.qpv.map((body) => {
      const rest = body.rest_of_commune;
      const communes = rest.communes.map((c) => c.name).join(", ");
      const unit = rateUnit([body.qpv.per_1000, rest.per_1000]);
      const svg = barChart({
        rows: [
          { name: body.qpv.name, count: body.qpv.pins, per1000: body.qpv.per_1000 },
          { name: t("compare.rest_of", { name: communes }), count: rest.pins, per1000: rest.per_1000, colour: "#8a8a8a" },
        ],
        max: Math.max(0, ...[body.qpv.per_1000, rest.per_1000].filter((v) => typeof v === "number")),
        unit, label: body.qpv.name,
      });
      const block = chartBlock(`${body.qpv.name} (${communes})`, svg);
      block.dataset.code = body.qpv.code;
      const ratio = body.ratio === null ? t("compare.ratio_none") : t("compare.ratio", { ratio: formatNumber(body.ratio, 1) });
      block.append(el("p", "note", unitText(unit)), el("p", "ratio", ratio));
      return block;
    }),
  );
}

function render() {
  renderChips();
  $("period").textContent = periodText();
  if (!state.rows.length) {
    for (const id of ["charts", "trends", "qpv"]) $(id).replaceChildren();
    $("table").replaceChildren();
    $("qpv-section").hidden = true;
    return;
  }
  renderCharts();
  renderTrends();
  renderQpv();
  renderTable($("table"), state.rows, { caption: periodText(), withTrend: Boolean(state.from) });
  $("pins-csv").href = `/api/exports/pins.csv?${filterQuery()}`;
}

async function refresh() {
  writeAddress();
  markChosen();
  renderChips();
  $("error").hidden = true;
  if (!state.codes.length) {
    state.rows = [];
    state.qpv = [];
    render();
    document.body.dataset.compared = "0";
    return;
  }
  const params = filterQuery();
  const query = new URLSearchParams(params);
  query.set("territories", state.codes.join(","));
  query.set("series", "month");
  try {
    const body = await getJSON(`/api/stats/compare/?${query}`);
    const qpvCodes = body.territories.filter((r) => r.kind === "qpv").map((r) => r.code);
    state.qpv = await Promise.all(qpvCodes.map((code) => getJSON(`/api/stats/qpv/${encodeURIComponent(code)}/?${params}`)));
    state.rows = body.territories;
    for (const r of state.rows) state.names[r.code] ??= { name: r.name, kind: r.kind };
  } catch (error) {
    const unknown = (error.fields && error.fields.territories) || [];
    if (error.code === "unknown_territory" && unknown.length) {
      // A shared address naming a code that no longer exists: drop it, say so, compare the others.
      state.codes = state.codes.filter((c) => !unknown.includes(c));
      await refresh();
      $("search-status").textContent = t("compare.unknown", { codes: unknown.join(", ") });
      return;
    }
    $("error").textContent = `${t("compare.error")} ${error.message}`;
    $("error").hidden = false;
    return;
  }
  render();
  document.body.dataset.compared = String(state.rows.length);
}

// --- Exports --------------------------------------------------------------------------------------------

async function exportPng() {
  const svgs = [...document.querySelectorAll("#charts figure, #trends figure, #qpv figure")];
  const pictures = await Promise.all(svgs.map((figure) => svgImage(figure.querySelector("svg"), figure.querySelector("figcaption").textContent)));
  const theme = state.theme ? themeName(state.theme) : t("compare.all_themes");
  const blob = await pngBlob({
    title: t("compare.title"),
    subtitle: `${periodText()} · ${theme} · ${t("compare.small_note")}`,
    pictures,
    columns: 2,
  });
  download(blob, "carto-comparaison.png");
  document.body.dataset.exported = "png";
}

// --- Start ----------------------------------------------------------------------------------------------

async function redrawWords() {
  fillThemes();
  fillMonths();
  fillNames();
  render();
}

$("picker").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("search").value;
  const code = findTerritory(text);
  if (!code) {
    $("search-status").textContent = text.trim() ? t("compare.not_found", { text }) : "";
    return;
  }
  $("search").value = "";
  if (!state.codes.includes(code)) toggle(code);
});
$("level").addEventListener("change", () => {
  state.level = $("level").value;
  writeAddress();
  showLevel();
});
$("theme").addEventListener("change", () => { state.theme = $("theme").value; refresh(); });
$("from").addEventListener("change", () => { state.from = $("from").value; refresh(); });
$("to").addEventListener("change", () => { state.to = $("to").value; refresh(); });
$("csv").addEventListener("click", () => download(tableCsv(state.rows, { caption: periodText() }), "carto-comparaison.csv"));
$("png").addEventListener("click", exportPng);

readAddress();
await startLanguage("compare.title", redrawWords);
$("level").value = state.level;
loadNames();
const themes = await getJSON("/api/themes/");
state.themes = themes;
setThemes(themes);
fillThemes();
fillMonths();
await Promise.all([refresh(), showLevel()]);
