// The dashboards' shared ground (/compare/, /heatmap/, /coverage/): the Métropole's bounds and the data's
// attribution, JSON requests answered in the API's error shape, the page's language and its number and date
// formats, maps drawn from carto's own tiles, rates in a readable unit, label points, CSV and PNG downloads.
// Every word from the i18n catalogues; every piece of data set with textContent.
import { request } from "./api.js";
import { detectLanguage, lang, plural, setLanguage, t, themeLabel } from "./i18n.js";
import { theme as themeOf } from "./themes.js";

export const METROPOLE_BOUNDS = [[2.14, 48.64], [2.62, 49.02]];
export const ATTRIBUTION = "Etalab / IGN, INSEE, ANCT — Licence Ouverte";
export const EMPTY = { type: "FeatureCollection", features: [] };
// The suppressed count, as every statistics endpoint writes it (carto.stats.comparisons.SUPPRESSED).
export const SUPPRESSED = "<5";

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// --- Requests -------------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (error && error.code) || "";
    this.fields = (error && error.fields) || {};
  }
}

// The JSON body of a GET, or an ApiError carrying the API's {"error": {code, message}}.
export async function getJSON(url) {
  const response = await request(url);
  if (response.status !== 200) throw new ApiError(response.status, response.body && response.body.error);
  return response.body;
}

// [{code, name, kind}] of every territory below the Métropole, written into the page by its view.
export const territoryNames = () => JSON.parse(document.getElementById("territory-names").textContent);

// The outlines of every territory of a level (GeoJSON, WGS84), fetched once per page.
const shapes = {};
export function territoryShapes(kind) {
  shapes[kind] ??= getJSON(`/api/territories/?kind=${encodeURIComponent(kind)}`);
  return shapes[kind];
}

// A theme's label in the page's language (the page gave the themes to themes.js), or its slug.
export const themeName = (slug) => (themeOf(slug) ? themeLabel(themeOf(slug)) : slug);

// A theme <select>: "all themes", then each group and its themes, labelled in the page's language.
export function fillThemeSelect(select, themes, value) {
  select.replaceChildren(new Option(t("compare.all_themes"), ""));
  for (const theme of themes) {
    select.append(new Option(theme.parent ? `— ${themeLabel(theme)}` : themeLabel(theme), theme.slug));
  }
  select.value = value;
}

// --- Language and formats -------------------------------------------------------------------------------

// Intl locales of the four languages: British English writes 1 March 2025, never 3/1/2025.
const LOCALES = { fr: "fr-FR", en: "en-GB", ar: "ar", zh: "zh-CN" };
export const locale = () => LOCALES[lang] || "fr-FR";
export const isRtl = () => document.documentElement.dir === "rtl";

// The page's language (saved choice, else the browser's), its switch, and what to redraw when it changes.
export async function startLanguage(titleKey, onChange) {
  const select = $("lang");
  await setLanguage(detectLanguage());
  select.value = lang;
  document.title = t(titleKey);
  select.addEventListener("change", async () => {
    await setLanguage(select.value);
    document.title = t(titleKey);
    await onChange();
  });
}

export const formatNumber = (n, digits = 0) =>
  Number(n).toLocaleString(locale(), { maximumFractionDigits: digits });

// "2025-03" → "mars 2025" (or "mars" with short: true); months are calendar months, no time zone shift.
export function formatMonth(month, { short = false } = {}) {
  const [year, m] = month.split("-").map(Number);
  const options = short ? { month: "short", timeZone: "UTC" } : { month: "long", year: "numeric", timeZone: "UTC" };
  return new Intl.DateTimeFormat(locale(), options).format(Date.UTC(year, m - 1, 1));
}

export const formatDate = (value) =>
  new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(value instanceof Date ? value : new Date(value));

export const isSuppressed = (count) => count === SUPPRESSED;

// A count as words: "7 signalements", "moins de 5 signalements", "aucun signalement".
export function pinsText(count) {
  if (isSuppressed(count)) return t("compare.pins_small");
  if (!count) return t("compare.pins_none");
  return plural("compare.pins", count, { n: formatNumber(count) });
}

// What a figure says: "Bondy : 7 signalements, 1,4 pour 10 000 habitants" or "… : moins de 5 signalements".
export function valueText(name, count, per1000, unit) {
  const words = pinsText(count);
  if (isSuppressed(count) || per1000 === null || per1000 === undefined) return t("compare.value", { name, value: words });
  const value = t("compare.value_rate", { pins: words, rate: formatRate(per1000, unit), unit: unitText(unit) });
  return t("compare.value", { name, value });
}

// --- Rates in a readable unit ---------------------------------------------------------------------------

// The API gives rates per 1,000 inhabitants. A few pins over a large population read better per 10,000 or
// per 100,000: the unit is the smallest where the typical (median) non-zero rate is at least 1.
export const UNITS = [1000, 10000, 100000];

export function rateUnit(ratesPer1000) {
  const values = ratesPer1000.filter((v) => typeof v === "number" && v > 0).sort((a, b) => a - b);
  if (!values.length) return UNITS[0];
  const median = values[Math.floor(values.length / 2)];
  return UNITS.find((unit) => (median * unit) / 1000 >= 1) || UNITS[UNITS.length - 1];
}

export const inUnit = (per1000, unit) => (per1000 * unit) / 1000;
export const unitText = (unit) => t(`compare.per_${unit}`);

// A rate in its unit with two significant digits at most ("1,4", "0,25", "12").
export function formatRate(per1000, unit) {
  const value = inUnit(per1000, unit);
  const digits = value >= 10 ? 0 : value >= 1 ? 1 : 2;
  return formatNumber(value, digits);
}

// "+12 %", "−8 %", or "—" when the API gives no change (a small count on either side).
export function trendText(trend) {
  if (!trend) return "—";
  if (trend.change_pct === null || trend.change_pct === undefined) {
    return trend.previous === 0 && typeof trend.current === "number" && trend.current > 0 ? t("compare.trend_new") : "—";
  }
  const sign = trend.change_pct > 0 ? "+" : trend.change_pct < 0 ? "−" : "";
  return `${sign}${formatNumber(Math.abs(trend.change_pct), 0)} %`;
}

// --- Maps -----------------------------------------------------------------------------------------------

export const territoryTiles = () => ({
  type: "vector",
  tiles: [`${location.origin}/api/tiles/territories/{z}/{x}/{y}.mvt`],
  maxzoom: 14,
});

export const BACKGROUND = { id: "background", type: "background", paint: { "background-color": "#f3f1ea" } };
// Outline colours, shared by the layers and the legends that name them.
export const OUTLINES = {
  communes: { color: "#8a8a8a", width: 0.6 },
  ept: { color: "#3d3d6b", width: 1.6 },
  qpv: { color: "#6a1b9a", width: 1.4 },
};
export const outlineLayers = () => [
  { id: "communes-line", type: "line", source: "territories", "source-layer": "communes",
    paint: { "line-color": OUTLINES.communes.color, "line-width": OUTLINES.communes.width } },
  { id: "ept-line", type: "line", source: "territories", "source-layer": "ept",
    paint: { "line-color": OUTLINES.ept.color, "line-width": OUTLINES.ept.width } },
];

// A map of the Métropole from carto's territory tiles (source "territories") plus the page's own sources
// and layers; no external basemap.
export function dashboardMap(container, { sources = {}, layers = [] } = {}) {
  const map = new maplibregl.Map({
    container,
    bounds: METROPOLE_BOUNDS,
    dragRotate: false,
    attributionControl: { customAttribution: ATTRIBUTION },
    style: { version: 8, sources: { territories: territoryTiles(), ...sources }, layers },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  // Once, from the start: map.loaded() turns false again whenever tiles load, and "load" fires only once.
  ready.set(map, new Promise((resolve) => map.once("load", resolve)));
  return map;
}

const ready = new WeakMap();
export const mapLoaded = (map) => ready.get(map);

// A point inside a (multi)polygon to write its name at: on the horizontal line through the middle of its
// largest ring's extent, the middle of the widest stretch inside it. Always inside, unlike a centroid, and a
// few lines instead of a library for 340 outlines drawn once.
export function labelPoint(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  let best = null;
  for (const rings of polygons) {
    const ys = rings[0].map((p) => p[1]);
    const y = (Math.min(...ys) + Math.max(...ys)) / 2;
    const xs = [];
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
        const [x1, y1] = ring[i];
        const [x2, y2] = ring[j];
        if ((y1 > y) !== (y2 > y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
      }
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const width = xs[k + 1] - xs[k];
      if (!best || width > best.width) best = { width, point: [(xs[k] + xs[k + 1]) / 2, y] };
    }
  }
  return best ? best.point : null;
}

// --- Downloads ------------------------------------------------------------------------------------------

export function download(blob, filename) {
  const a = el("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// CSV for spreadsheets: BOM, semicolons, every cell quoted; text that a spreadsheet would run as a formula
// is prefixed with an apostrophe (numbers, negative ones included, are left alone).
export function csvBlob(lines) {
  const cell = (value) => {
    let text = value === null || value === undefined ? "" : String(value);
    if (typeof value !== "number" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return `"${text.replaceAll('"', '""')}"`;
  };
  const body = lines.map((line) => line.map(cell).join(";")).join("\r\n");
  return new Blob(["\ufeff" + body], { type: "text/csv;charset=utf-8" });
}

// The map's canvas as drawn in its next frame (the drawing buffer is only readable during the frame).
export function mapSnapshot(map) {
  return new Promise((resolve) => {
    map.once("render", () => {
      const source = map.getCanvas();
      const copy = document.createElement("canvas");
      copy.width = source.width;
      copy.height = source.height;
      copy.getContext("2d").drawImage(source, 0, 0);
      resolve(copy);
    });
    map.triggerRepaint();
  });
}

// An <svg> element as an image (through a blob: URL, which the CSP allows for images), with its title
// written above it: the caption lives outside the SVG on the page.
export function svgImage(svg, title = "") {
  const box = svg.viewBox.baseVal;
  const head = title ? 18 : 0;
  const clone = svg.cloneNode(true);
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("viewBox", `0 ${-head} ${box.width} ${box.height + head}`);
  clone.setAttribute("width", String(box.width * 2));
  clone.setAttribute("height", String((box.height + head) * 2));
  if (title) {
    const text = document.createElementNS("http://www.w3.org/2000/svg", "text");
    const rtl = isRtl();
    text.setAttribute("x", rtl ? String(box.width) : "0");
    text.setAttribute("y", "-5");
    text.setAttribute("text-anchor", rtl ? "end" : "start");
    text.setAttribute("font-weight", "bold");
    text.setAttribute("font-size", "12");
    text.textContent = title;
    clone.insertBefore(text, clone.firstChild);
  }
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: "image/svg+xml" }));
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => { URL.revokeObjectURL(url); resolve(image); };
    image.onerror = reject;
    image.src = url;
  });
}

// A PNG that stands on its own: title, a subtitle (filters, period), the pictures (a map, or charts in
// `columns`), the legend (colour, line or gradient swatches with their words) and the attribution.
export async function pngBlob({ title, subtitle = "", pictures = [], legend = [], width = 1200, columns = 1 }) {
  const pad = 24;
  const cell = (width - pad * (columns + 1)) / columns;
  const scaled = pictures.map((p) => {
    const w = p.naturalWidth || p.width;
    const h = p.naturalHeight || p.height;
    const ratio = Math.min(1, cell / w);
    return { p, w: w * ratio, h: h * ratio };
  });
  // Pictures fill the rows of the grid in reading order (from the right on a right-to-left page).
  const rows = [];
  for (let i = 0; i < scaled.length; i += columns) rows.push(scaled.slice(i, i + columns));
  const picturesHeight = rows.reduce((s, row) => s + Math.max(...row.map((x) => x.h)) + 12, 0);
  const legendHeight = legend.length ? 22 * legend.length + 16 : 0;
  const height = pad * 2 + 40 + (subtitle ? 26 : 0) + picturesHeight + legendHeight + 24;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = Math.ceil(height);
  const ctx = canvas.getContext("2d");
  const rtl = isRtl();
  ctx.direction = rtl ? "rtl" : "ltr";
  ctx.textAlign = "start";
  const startX = rtl ? width - pad : pad;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, canvas.height);
  ctx.fillStyle = "#3d3d6b";
  ctx.font = "bold 26px system-ui, 'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK SC', sans-serif";
  let y = pad + 26;
  ctx.fillText(title, startX, y);
  ctx.font = "16px system-ui, 'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK SC', sans-serif";
  ctx.fillStyle = "#4a4a4a";
  if (subtitle) {
    y += 26;
    ctx.fillText(subtitle, startX, y);
  }
  y += 18;
  for (const row of rows) {
    row.forEach(({ p, w, h }, i) => {
      const left = columns === 1 ? (width - w) / 2 : pad + i * (cell + pad);
      ctx.drawImage(p, rtl && columns > 1 ? width - left - w : left, y, w, h);
    });
    y += Math.max(...row.map((x) => x.h)) + 12;
  }
  for (const item of legend) {
    const swatchX = rtl ? width - pad - 28 : pad;
    if (item.gradient) {
      const g = ctx.createLinearGradient(swatchX, 0, swatchX + 28, 0);
      item.gradient.forEach((colour, i) => g.addColorStop(i / Math.max(1, item.gradient.length - 1), colour));
      ctx.fillStyle = g;
      ctx.fillRect(swatchX, y, 28, 14);
    } else if (item.line) {
      ctx.strokeStyle = item.line;
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.moveTo(swatchX, y + 7);
      ctx.lineTo(swatchX + 28, y + 7);
      ctx.stroke();
    } else if (item.hatch) {
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(swatchX, y, 28, 14);
      ctx.save();
      ctx.beginPath();
      ctx.rect(swatchX, y, 28, 14);
      ctx.clip();
      ctx.strokeStyle = "#8a8a8a";
      ctx.lineWidth = 2;
      for (let k = -14; k < 28; k += 6) {
        ctx.beginPath();
        ctx.moveTo(swatchX + k, y + 14);
        ctx.lineTo(swatchX + k + 14, y);
        ctx.stroke();
      }
      ctx.restore();
      ctx.strokeStyle = "#999999";
      ctx.lineWidth = 1;
      ctx.strokeRect(swatchX, y, 28, 14);
    } else {
      ctx.fillStyle = item.colour || "#ffffff";
      ctx.fillRect(swatchX, y, 28, 14);
      ctx.strokeStyle = "#999999";
      ctx.lineWidth = 1;
      ctx.strokeRect(swatchX, y, 28, 14);
    }
    ctx.fillStyle = "#1b1b1b";
    ctx.fillText(item.label, rtl ? width - pad - 36 : pad + 36, y + 13);
    y += 22;
  }
  ctx.fillStyle = "#4a4a4a";
  ctx.font = "13px system-ui, sans-serif";
  ctx.fillText(`carto — ${ATTRIBUTION} — ${formatDate(new Date())}`, startX, canvas.height - pad / 2);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
