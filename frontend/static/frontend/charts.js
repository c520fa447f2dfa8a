// Small charts in plain SVG for the dashboards: horizontal bars (one per territory) and monthly columns.
// A suppressed count ("<5") never draws as zero: the bar is replaced by the words "moins de 5", the month's
// column by a hatched band spanning what 1 to 4 pins would be. Each bar is focusable and says its count and
// rate (aria-label, and the shared tooltip on hover and focus); right-to-left pages draw mirrored.
import { t } from "./i18n.js";
import { formatMonth, formatRate, isRtl, isSuppressed, unitText, valueText } from "./dashboard.js";

const NS = "http://www.w3.org/2000/svg";
const BRAND = "#3d3d6b";
const MUTED = "#4a4a4a";
const FONT = "system-ui, 'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK SC', sans-serif";

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

let hatches = 0;

// An <svg> with its own hatch pattern (ids must be unique in the page): returns the svg and the fill to use.
function svgRoot(width, height, label) {
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "group", "font-family": FONT, "font-size": 12 });
  if (label) svg.setAttribute("aria-label", label);
  // Positions and anchors are mirrored by hand on a right-to-left page: the SVG stays left-to-right, or the
  // page's inherited `direction` would flip every anchor a second time (Arabic words still read right to left).
  svg.setAttribute("direction", "ltr");
  // The hatch of suppressed values, drawn in the SVG itself so that a PNG export keeps it.
  const defs = svgEl("defs");
  hatches += 1;
  const id = `hatch-${hatches}`;
  const pattern = svgEl("pattern", { id, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pattern.append(svgEl("rect", { width: 6, height: 6, fill: "#f1efe8" }), svgEl("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#8a8a8a", "stroke-width": 2 }));
  defs.append(pattern);
  svg.append(defs);
  return { svg, hatch: `url(#${id})` };
}

// The shared tooltip (#tip): shown beside a chart element on hover and on keyboard focus.
function tipOn(target, text) {
  const show = () => {
    const tip = document.getElementById("tip");
    if (!tip) return;
    tip.textContent = text;
    tip.hidden = false;
    // Fixed to the viewport, above the element (below it near the top), kept on screen.
    const box = target.getBoundingClientRect();
    const above = box.top - tip.offsetHeight - 6;
    tip.style.top = `${above > 4 ? above : box.bottom + 6}px`;
    const left = box.left + box.width / 2 - tip.offsetWidth / 2;
    tip.style.left = `${Math.max(4, Math.min(left, window.innerWidth - tip.offsetWidth - 4))}px`;
  };
  const hide = () => {
    const tip = document.getElementById("tip");
    if (tip) tip.hidden = true;
  };
  target.addEventListener("mouseenter", show);
  target.addEventListener("focus", show);
  target.addEventListener("mouseleave", hide);
  target.addEventListener("blur", hide);
}

const shorten = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

// Horizontal bars: rows [{name, count, per1000, code?, colour?}], on a scale from 0 to `max` (per 1,000).
export function barChart({ rows, max, unit, label }) {
  const W = 360;
  const ROW = 24;
  const LABEL = 118;
  const VALUE = 64;
  const H = rows.length * ROW + 6;
  const rtl = isRtl();
  const x = (v, w = 0) => (rtl ? W - v - w : v);
  const anchor = (start) => (start === !rtl ? "start" : "end");
  const { svg } = svgRoot(W, H, label);
  const track = W - LABEL - VALUE;
  rows.forEach((row, i) => {
    const y = i * ROW + 3;
    const g = svgEl("g", { class: "bar", tabindex: 0, role: "img" });
    if (row.code) g.dataset.code = row.code;
    const said = valueText(row.name, row.count, row.per1000, unit);
    g.setAttribute("aria-label", said);
    g.append(svgEl("title", {}, said));
    g.append(svgEl("rect", { x: 0, y, width: W, height: ROW - 2, fill: "transparent" }));
    g.append(svgEl("text", { x: x(0), y: y + 14, "text-anchor": anchor(true), fill: "#1b1b1b" }, shorten(row.name, 20)));
    g.append(svgEl("rect", { x: x(LABEL, track), y: y + 4, width: track, height: 12, rx: 3, fill: "#eeece6" }));
    let end = LABEL + 4;
    let text;
    if (isSuppressed(row.count)) {
      text = svgEl("text", { x: x(LABEL + 6), y: y + 14, "text-anchor": anchor(true), fill: MUTED, "font-style": "italic" }, t("compare.small"));
      g.append(text);
      g.dataset.suppressed = "1";
    } else {
      const value = typeof row.per1000 === "number" ? row.per1000 : 0;
      const width = max > 0 ? (value / max) * track : 0;
      g.append(svgEl("rect", { x: x(LABEL, width), y: y + 4, width, height: 12, rx: 3, fill: row.colour || BRAND }));
      end = LABEL + width + 4;
      const shown = typeof row.per1000 === "number" ? formatRate(row.per1000, unit) : "—";
      text = svgEl("text", { x: x(Math.min(end, W - VALUE + 4)), y: y + 14, "text-anchor": anchor(true), fill: "#1b1b1b" }, shown);
      g.append(text);
    }
    svg.append(g);
    tipOn(g, said);
  });
  return svg;
}

// Monthly columns for one territory: series [{month, pins, per_1000}], on a scale from 0 to `max` (per 1,000).
export function columnChart({ name, series, population, max, unit }) {
  const W = 360;
  const H = 136;
  const TOP = 18;
  const BOTTOM = 22;
  const rtl = isRtl();
  const plot = H - TOP - BOTTOM;
  const n = Math.max(series.length, 1);
  const step = (W - 16) / n;
  const x = (i) => (rtl ? W - 8 - (i + 1) * step : 8 + i * step);
  const y = (per1000) => TOP + plot - (max > 0 ? (Math.min(per1000, max) / max) * plot : 0);
  const { svg, hatch } = svgRoot(W, H, `${name} — ${t("compare.trends")}`);
  svg.append(svgEl("line", { x1: 8, x2: W - 8, y1: TOP + plot, y2: TOP + plot, stroke: "#8a8a8a" }));
  series.forEach((m, i) => {
    const g = svgEl("g", { class: "month" });
    const said = valueText(formatMonth(m.month), m.pins, m.per_1000, unit);
    g.setAttribute("aria-label", said);
    g.append(svgEl("title", {}, said));
    g.append(svgEl("rect", { x: x(i), y: TOP, width: step, height: plot, fill: "transparent" }));
    if (isSuppressed(m.pins) && population) {
      // Between what 1 and 4 pins would weigh: a range, not a value.
      const low = y(1000 / population);
      const high = y(4000 / population);
      g.append(svgEl("rect", { x: x(i) + 1, y: high, width: step - 2, height: Math.max(2, low - high), fill: hatch, stroke: "#8a8a8a", "stroke-width": 0.5 }));
      g.dataset.suppressed = "1";
    } else if (typeof m.per_1000 === "number" && m.per_1000 > 0) {
      g.append(svgEl("rect", { x: x(i) + 1, y: y(m.per_1000), width: step - 2, height: TOP + plot - y(m.per_1000), fill: BRAND }));
    }
    svg.append(g);
    tipOn(g, said);
  });
  if (series.length) {
    const first = series[0].month;
    const last = series[series.length - 1].month;
    const start = rtl ? "end" : "start";
    const end = rtl ? "start" : "end";
    svg.append(svgEl("text", { x: rtl ? W - 8 : 8, y: H - 6, "text-anchor": start, fill: MUTED }, formatMonth(first)));
    if (last !== first) svg.append(svgEl("text", { x: rtl ? 8 : W - 8, y: H - 6, "text-anchor": end, fill: MUTED }, formatMonth(last)));
  }
  if (max > 0) {
    svg.append(svgEl("text", { x: rtl ? 8 : W - 8, y: TOP - 6, "text-anchor": rtl ? "start" : "end", fill: MUTED, "font-size": 10 },
      `${formatRate(max, unit)} ${unitText(unit)}`));
  }
  return svg;
}

// The largest value a set of monthly series draws (a suppressed month reaches what 4 pins would weigh).
export function seriesMax(rows) {
  let max = 0;
  for (const row of rows) {
    for (const m of row.series || []) {
      if (typeof m.per_1000 === "number") max = Math.max(max, m.per_1000);
      else if (isSuppressed(m.pins) && row.population) max = Math.max(max, 4000 / row.population);
    }
  }
  return max;
}
