// The heatmap's classes and legends: quantile classes of the rates with readable bounds ("2 à 5 pour 10 000
// habitants"), and the colour stops shared by each layer and its legend entry (one source for both).
import { $, OUTLINES, el, formatNumber, inUnit, rateUnit, unitText } from "./dashboard.js";
import { t } from "./i18n.js";

// Sequential classes (ColorBrewer Oranges); no pin is white, a suppressed count hatched (never a class).
const CLASS_COLOURS = ["#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];
export const ZERO = "#ffffff";
// Heat ramp by density, shared by the layer and its legend.
export const HEAT_STOPS = [[0, "rgba(33,102,172,0)"], [0.2, "rgb(103,169,207)"], [0.4, "rgb(209,229,240)"],
  [0.6, "rgb(253,219,199)"], [0.8, "rgb(239,138,98)"], [1, "rgb(178,24,43)"]];
// Hexagon colours by count: one stop per colour, shared by the layer and its legend.
export const HEX_STOPS = [[1, "#fdd0a2"], [10, "#fd8d3c"], [50, "#d94801"], [250, "#7f2704"]];

// --- Classes --------------------------------------------------------------------------------------------

// The nearest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten: bounds a reader can hold.
export function nice(value) {
  const base = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
  const best = steps.reduce((a, b) => (Math.abs(b - value / base) < Math.abs(a - value / base) ? b : a));
  return Number((best * base).toPrecision(2));
}

// Quantile classes (fifths) of the published non-zero rates, in the readable unit, bounds rounded.
export function classify(rates) {
  const unit = rateUnit(rates);
  const values = rates.filter((v) => typeof v === "number" && v > 0).map((v) => inUnit(v, unit)).sort((a, b) => a - b);
  const q = (p) => values[Math.min(values.length - 1, Math.floor(p * values.length))];
  const bounds = values.length > 1 ? [...new Set([0.2, 0.4, 0.6, 0.8].map((p) => nice(q(p))))].sort((a, b) => a - b) : [];
  // Colours spread over the ramp whatever the number of classes.
  const n = bounds.length + 1;
  const colours = Array.from({ length: n }, (_, i) => CLASS_COLOURS[n === 1 ? 2 : Math.round((i * (CLASS_COLOURS.length - 1)) / (n - 1))]);
  return { unit, bounds, colours, any: values.length > 0 };
}

export function colourOf(per1000, classes) {
  if (typeof per1000 !== "number") return null;
  if (per1000 === 0) return ZERO;
  const value = inUnit(per1000, classes.unit);
  return classes.colours[classes.bounds.filter((b) => value >= b).length];
}

const bound = (b) => formatNumber(b, 2);

export function classLabels(classes) {
  const unit = unitText(classes.unit);
  const { bounds } = classes;
  if (!bounds.length) return [t("heatmap.class_any", { unit })];
  return [
    t("heatmap.class_below", { b: bound(bounds[0]), unit }),
    ...bounds.slice(0, -1).map((b, i) => t("heatmap.class_between", { a: bound(b), b: bound(bounds[i + 1]), unit })),
    t("heatmap.class_above", { a: bound(bounds[bounds.length - 1]), unit }),
  ];
}

// --- Legends: one entry for every layer shown -----------------------------------------------------------

// Legend items: {label, colour} (a fill), {label, line, dash} (an outline), {label, gradient}, {label, hatch}.
export function legendRows(id, title, items) {
  const rows = items.map((item) => {
    const div = el("div", "legend-row");
    const swatch = el("i", item.line ? "swatch line" : item.hatch ? "swatch hatch" : "swatch");
    if (item.gradient) swatch.style.background = `linear-gradient(to ${document.documentElement.dir === "rtl" ? "left" : "right"}, ${item.gradient.join(", ")})`;
    else if (item.line) {
      swatch.style.borderBlockStartColor = item.line;
      if (item.dash) swatch.classList.add("dashed");
    } else if (!item.hatch) swatch.style.background = item.colour;
    swatch.setAttribute("aria-hidden", "true");
    div.append(swatch, el("span", "", item.label));
    return div;
  });
  $(id).replaceChildren(...(title ? [el("p", "legend-title", title)] : []), ...rows);
  $(id).dataset.items = String(items.length);
}

export function legendItems(classes) {
  const items = { choropleth: [], heat: [], hexagons: [], qpv: [], outlines: [] };
  if (classes) {
    const labels = classLabels(classes);
    items.choropleth = [
      { label: t("heatmap.class_zero"), colour: ZERO },
      ...(classes.any ? labels.map((label, i) => ({ label, colour: classes.colours[i] })) : []),
      { label: t("heatmap.class_small"), hatch: true, colour: "#bbbbbb" },
    ];
  }
  items.heat = [{ label: t("heatmap.heat_legend"), gradient: HEAT_STOPS.slice(1).map(([, c]) => c) }];
  items.hexagons = [
    { label: t("heatmap.hex_below", { n: HEX_STOPS[1][0] }), colour: HEX_STOPS[0][1] },
    ...HEX_STOPS.slice(1).map(([count, colour]) => ({ label: t("heatmap.hex_above", { n: count }), colour })),
  ];
  items.qpv = [{ label: t("heatmap.qpv_legend"), line: OUTLINES.qpv.color, dash: true }];
  items.outlines = [
    { label: t("heatmap.outline_communes"), line: OUTLINES.communes.color },
    { label: t("heatmap.outline_ept"), line: OUTLINES.ept.color },
  ];
  return items;
}
