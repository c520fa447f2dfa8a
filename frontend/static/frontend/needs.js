// The state of needs of one territory, on one screen over the heatmap: its pins and their trend, its rate,
// the "moi aussi", its top needs (clusters) and themes, and how many are covered by a Grand Paris response;
// for a QPV, its rate against the rest of its commune. Data: /api/stats/needs/{code}/, /api/stats/qpv/{code}/.
import {
  el, formatDate, formatNumber, formatRate, getJSON, isSuppressed, rateUnit, themeName, trendText, unitText,
} from "./dashboard.js";
import { t } from "./i18n.js";

const NEEDS_SHOWN = 5;
const THEMES_SHOWN = 6;

const count = (n) => (isSuppressed(n) ? t("compare.small") : formatNumber(n ?? 0));

function table(caption, head, lines, empty) {
  const wrap = el("div", "needs-block");
  wrap.append(el("h3", "", caption));
  if (!lines.length) {
    wrap.append(el("p", "hint", empty));
    return wrap;
  }
  const node = el("table", "needs-table");
  const tr = node.createTHead().insertRow();
  for (const cell of head) {
    const th = el("th", "", cell);
    th.scope = "col";
    tr.append(th);
  }
  const body = node.createTBody();
  for (const line of lines) {
    const row = body.insertRow();
    line.forEach((cell, i) => {
      const td = el(i ? "td" : "th", i ? "num" : "", "");
      if (!i) td.scope = "row";
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell;
      row.append(td);
    });
  }
  wrap.append(node);
  return wrap;
}

function figure(label, value, extra) {
  const div = el("div");
  const dd = el("dd", "", value);
  if (extra) dd.append(" ", el("span", "trend", extra));
  div.append(el("dt", "", label), dd);
  return div;
}

function periodSentence(body) {
  const since = formatDate(body.period.since);
  if (!body.period.until) return t("needs.period_open", { since });
  return t("needs.period", { since, until: formatDate(body.period.until) });
}

function render(container, body, qpv, onClose) {
  const unit = rateUnit([body.per_1000, ...body.themes.map((x) => x.per_1000)]);
  const head = el("div", "needs-head");
  const title = el("h2", "", t("needs.title", { name: body.territory.name }));
  title.id = "needs-title";
  title.tabIndex = -1;
  const close = el("button", "close", "✕");
  close.type = "button";
  close.setAttribute("aria-label", t("needs.close"));
  close.addEventListener("click", onClose);
  head.append(title, close);

  const figures = el("dl", "figures");
  figures.append(
    figure(t("compare.col_pins"), count(body.pins), trendText(body.trend)),
    figure(unitText(unit), typeof body.per_1000 === "number" ? formatRate(body.per_1000, unit) : "—"),
    figure(t("compare.col_supports"), count(body.supports)),
    figure(t("needs.covered"), t("needs.covered_of", { covered: formatNumber(body.coverage.covered), needs: formatNumber(body.coverage.needs) })),
  );

  const parts = [head, el("p", "note", `${t(`compare.kind.${body.territory.kind}`)} · ${periodSentence(body)}`), figures];
  if (qpv) {
    const rest = qpv.rest_of_commune;
    const qUnit = rateUnit([qpv.qpv.per_1000, rest.per_1000]);
    const rate = (row) => (typeof row.per_1000 === "number" && !isSuppressed(row.pins) ? `${formatRate(row.per_1000, qUnit)} ${unitText(qUnit)}` : t("compare.small"));
    const sentence = t("needs.qpv_versus", {
      inside: rate(qpv.qpv),
      rest: rate(rest),
      communes: rest.communes.map((c) => c.name).join(", "),
    });
    const ratio = qpv.ratio === null ? "" : ` (${t("compare.ratio", { ratio: formatNumber(qpv.ratio, 1) })})`;
    parts.push(el("p", "needs-qpv", sentence + ratio));
  }

  const needLines = body.needs.slice(0, NEEDS_SHOWN).map((need) => {
    const response = need.covered
      ? need.responses.map((r) => r.name).join(", ") || t("needs.yes")
      : t("needs.none");
    const cell = el("span", need.covered ? "covered" : "uncovered", `${need.covered ? "✓" : "✗"} ${response}`);
    return [need.label, count(need.pins), count(need.supports), trendText(need.trend), cell];
  });
  parts.push(table(
    t("needs.top"),
    [t("needs.col_need"), t("compare.col_pins"), t("compare.col_supports"), t("compare.col_trend"), t("needs.col_response")],
    needLines,
    t("needs.no_needs"),
  ));
  const themeLines = body.themes.slice(0, THEMES_SHOWN).map((x) => [
    themeName(x.slug), count(x.pins), typeof x.per_1000 === "number" ? formatRate(x.per_1000, unit) : "—",
    trendText(x.trend), count(x.covered_pins),
  ]);
  parts.push(table(
    t("needs.themes"),
    [t("compare.theme"), t("compare.col_pins"), unitText(unit), t("compare.col_trend"), t("needs.col_covered")],
    themeLines,
    t("needs.no_themes"),
  ));
  const links = el("p", "needs-links");
  const compare = el("a", "", t("needs.compare"));
  compare.href = `/compare/?territories=${encodeURIComponent(body.territory.code)}&level=${body.territory.kind === "qpv" ? "qpv" : "commune"}`;
  const coverage = el("a", "", t("nav.coverage"));
  coverage.href = "/coverage/";
  links.append(compare, " · ", coverage);
  parts.push(links);
  container.replaceChildren(...parts);
  container.dataset.code = body.territory.code;
}

// The board inside `container`: show(code) fetches and draws it, redraw() after a change of language.
export function createBoard({ container, filters, onClose }) {
  let shown = null; // {body, qpv}
  let asked = "";

  async function show(code) {
    asked = code;
    container.hidden = false;
    container.setAttribute("aria-busy", "true");
    const params = filters();
    let body;
    let qpv = null;
    try {
      body = await getJSON(`/api/stats/needs/${encodeURIComponent(code)}/?${params}&limit=${NEEDS_SHOWN}`);
      if (body.territory.kind === "qpv") qpv = await getJSON(`/api/stats/qpv/${encodeURIComponent(code)}/?${params}`);
    } catch (error) {
      if (asked !== code) return;
      container.replaceChildren(el("p", "error", error.status === 404 ? t("needs.unknown") : t("compare.error")));
      container.removeAttribute("aria-busy");
      return;
    }
    if (asked !== code) return; // another territory was chosen meanwhile
    shown = { body, qpv };
    render(container, body, qpv, onClose);
    container.removeAttribute("aria-busy");
    document.body.dataset.needs = code;
  }

  function hide() {
    asked = "";
    shown = null;
    container.hidden = true;
    container.replaceChildren();
    delete document.body.dataset.needs;
  }

  function redraw() {
    if (shown) render(container, shown.body, shown.qpv, onClose);
  }

  return { show, hide, redraw };
}
