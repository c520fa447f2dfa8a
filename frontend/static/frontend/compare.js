// /compare/: pick territories, then a table and bars per theme per 1,000 inhabitants, from /api/stats/compare/.
const $ = (id) => document.getElementById(id);
const DEFAULT = ["93010", "93071", "75056"]; // Bondy, Sevran, Paris
const state = { codes: [], names: {}, themes: {} };

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function filterQuery() {
  const params = new URLSearchParams();
  if ($("theme").value) params.set("theme", $("theme").value);
  if ($("since").value) params.set("since", $("since").value);
  if ($("until").value) params.set("until", $("until").value);
  return params;
}

async function loadTerritories() {
  const body = await getJSON(`/api/stats/territories/?level=${encodeURIComponent($("level").value)}`);
  const select = $("territory");
  select.replaceChildren(
    ...body.territories
      .slice()
      .sort((a, b) => a.name.localeCompare(b.name, "fr"))
      .map((t) => {
        state.names[t.code] = t.name;
        return new Option(`${t.name} (${t.code})`, t.code);
      }),
  );
}

async function loadThemes() {
  const themes = await getJSON("/api/themes/");
  for (const theme of themes) {
    const label = theme.labels.fr || theme.slug;
    state.themes[theme.slug] = label;
    $("theme").append(new Option(theme.parent ? `— ${label}` : label, theme.slug));
  }
}

function renderChips() {
  $("chosen").replaceChildren(
    ...state.codes.map((code) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${state.names[code] || code} ✕`;
      button.setAttribute("aria-label", `Retirer ${state.names[code] || code}`);
      button.addEventListener("click", () => {
        state.codes = state.codes.filter((c) => c !== code);
        refresh();
      });
      li.append(button);
      return li;
    }),
  );
}

const fmt = (value) => (value === null || value === undefined ? "—" : typeof value === "number" ? value.toLocaleString("fr-FR") : value);
const rate = (value) => (value === null || value === undefined ? "—" : value.toLocaleString("fr-FR", { maximumFractionDigits: 3 }));

function renderTable(rows) {
  const themes = [...new Set(rows.flatMap((r) => Object.keys(r.by_theme)))].sort();
  const head = ["", ...rows.map((r) => r.name)];
  const lines = [
    ["Population", ...rows.map((r) => fmt(r.population))],
    ["Signalements", ...rows.map((r) => fmt(r.pins))],
    ["Pour 1 000 habitants", ...rows.map((r) => rate(r.per_1000))],
    ["Soutiens", ...rows.map((r) => fmt(r.supports))],
    ...themes.map((slug) => [
      state.themes[slug] || slug,
      ...rows.map((r) => `${fmt(r.by_theme[slug] ?? 0)} (${rate(r.by_theme_per_1000[slug] ?? 0)} pour 1 000 hab.)`),
    ]),
  ];
  const table = $("table");
  table.replaceChildren();
  const thead = table.createTHead().insertRow();
  for (const cell of head) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = cell;
    thead.append(th);
  }
  const tbody = table.createTBody();
  for (const line of lines) {
    const tr = tbody.insertRow();
    line.forEach((cell, i) => {
      const el = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) el.scope = "row";
      el.textContent = cell;
      tr.append(el);
    });
  }
  // The same table as CSV, built in the browser (official names and numbers only).
  const quote = (v) => `"${String(v).replaceAll('"', '""')}"`;
  const csv = [head, ...lines].map((line) => line.map(quote).join(";")).join("\r\n");
  const link = $("csv");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob(["\ufeff" + csv], { type: "text/csv;charset=utf-8" }));
  $("pins-csv").href = `/api/exports/pins.csv?${filterQuery()}`;
}

function renderBars(rows) {
  const themes = [...new Set(rows.flatMap((r) => Object.keys(r.by_theme)))].sort();
  const max = Math.max(0, ...rows.flatMap((r) => Object.values(r.by_theme_per_1000).filter((v) => v !== null)));
  $("bars").replaceChildren(
    ...themes.map((slug) => {
      const block = document.createElement("section");
      const title = document.createElement("h3");
      title.textContent = state.themes[slug] || slug;
      block.append(title);
      for (const r of rows) {
        const value = r.by_theme_per_1000[slug];
        const row = document.createElement("div");
        row.className = "bar-row";
        const name = document.createElement("span");
        name.textContent = r.name;
        const track = document.createElement("div");
        track.className = "bar-track";
        const fill = document.createElement("div");
        fill.className = "bar-fill";
        fill.style.inlineSize = `${value && max ? (value / max) * 100 : 0}%`;
        track.append(fill);
        const label = document.createElement("span");
        label.textContent = value === null || value === undefined ? fmt(r.by_theme[slug] ?? 0) : rate(value);
        row.append(name, track, label);
        block.append(row);
      }
      return block;
    }),
  );
}

async function refresh() {
  renderChips();
  const url = new URL(location.href);
  url.searchParams.set("territories", state.codes.join(","));
  history.replaceState(null, "", url);
  $("error").hidden = true;
  if (!state.codes.length) {
    $("table").replaceChildren();
    $("bars").replaceChildren();
    return;
  }
  const params = filterQuery();
  params.set("territories", state.codes.join(","));
  try {
    const body = await getJSON(`/api/stats/compare/?${params}`);
    for (const r of body.territories) state.names[r.code] = r.name;
    renderChips();
    renderTable(body.territories);
    renderBars(body.territories);
    document.body.dataset.compared = String(body.territories.length);
  } catch (error) {
    $("error").textContent = error.message;
    $("error").hidden = false;
  }
}

$("picker").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("territory").value;
  if (code && !state.codes.includes(code)) state.codes.push(code);
  refresh();
});
$("level").addEventListener("change", loadTerritories);
for (const id of ["theme", "since", "until"]) $(id).addEventListener("change", refresh);

const fromUrl = new URLSearchParams(location.search).get("territories");
state.codes = fromUrl ? fromUrl.split(",").filter(Boolean) : DEFAULT;
await Promise.all([loadTerritories(), loadThemes()]);
await refresh();
