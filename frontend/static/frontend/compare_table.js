// The /compare/ table (one line per measure, one column per territory) and its CSV download.
// "<5" reads "moins de 5", never with a rate beside it; rates in the unit the charts use.
import {
  csvBlob, el, formatNumber, formatRate, isSuppressed, rateUnit, themeName, trendText, unitText,
} from "./dashboard.js";
import { lang, t } from "./i18n.js";

export const kindText = (kind) => t(`compare.kind.${kind}`);
export const allRates = (rows) => rows.flatMap((r) => [r.per_1000, ...Object.values(r.by_theme_per_1000)]);
export const themesOf = (rows) =>
  [...new Set(rows.flatMap((r) => Object.keys(r.by_theme)))].sort((a, b) => themeName(a).localeCompare(themeName(b), lang));

function tableLines(rows, withTrend) {
  const unit = rateUnit(allRates(rows));
  const count = (n) => (isSuppressed(n) ? t("compare.small") : formatNumber(n ?? 0));
  const rate = (v) => (typeof v === "number" ? formatRate(v, unit) : "—");
  const withRate = (n, v) => (isSuppressed(n) ? t("compare.small") : `${count(n)} (${rate(v)})`);
  const lines = [
    [t("compare.col_kind"), ...rows.map((r) => kindText(r.kind))],
    [t("compare.col_population"), ...rows.map((r) => (r.population ? formatNumber(r.population) : "—"))],
    [t("compare.col_pins"), ...rows.map((r) => count(r.pins))],
    [unitText(unit), ...rows.map((r) => (isSuppressed(r.pins) ? "—" : rate(r.per_1000)))],
    [t("compare.col_supports"), ...rows.map((r) => count(r.supports))],
  ];
  if (withTrend) lines.push([t("compare.col_trend"), ...rows.map((r) => trendText(r.trend))]);
  for (const slug of themesOf(rows)) {
    lines.push([`${themeName(slug)} (${unitText(unit)})`, ...rows.map((r) => withRate(r.by_theme[slug] ?? 0, r.by_theme_per_1000[slug] ?? 0))]);
  }
  return { head: ["", ...rows.map((r) => r.name)], lines };
}

// The table of the compared rows, its caption saying the period; the trend line only with a start month.
export function renderTable(table, rows, { caption, withTrend }) {
  const { head, lines } = tableLines(rows, withTrend);
  table.replaceChildren(el("caption", "", caption));
  const headRow = table.createTHead().insertRow();
  head.forEach((cell, i) => {
    const th = el("th", "", cell);
    th.scope = "col";
    if (i) th.dataset.code = rows[i - 1].code;
    headRow.append(th);
  });
  const body = table.createTBody();
  for (const line of lines) {
    const tr = body.insertRow();
    line.forEach((cell, i) => {
      const node = el(i === 0 ? "th" : "td", "", cell);
      if (i === 0) node.scope = "row";
      tr.append(node);
    });
  }
}

// One line per territory, machine-readable: codes, counts ("<5" kept), rates per 1,000 with the page's
// decimal separator, the change in percent, each theme's count.
export function tableCsv(rows, { caption }) {
  const decimal = (1.5).toLocaleString(lang === "ar" ? "ar-u-nu-latn" : lang).replace(/\d/g, "");
  const num = (v) => (typeof v === "number" ? String(v).replace(".", decimal) : v ?? "");
  const themes = themesOf(rows);
  const head = [
    t("compare.col_code"), t("compare.col_name"), t("compare.col_kind"), t("compare.col_population"),
    t("compare.col_pins"), t("compare.per_1000"), t("compare.col_supports"), t("compare.col_trend"),
    ...themes.map((slug) => themeName(slug)),
  ];
  const lines = rows.map((r) => [
    r.code, r.name, kindText(r.kind), r.population, r.pins, num(r.per_1000), r.supports,
    r.trend && r.trend.change_pct !== null ? num(r.trend.change_pct) : "",
    ...themes.map((slug) => r.by_theme[slug] ?? 0),
  ]);
  return csvBlob([[caption], head, ...lines]);
}
