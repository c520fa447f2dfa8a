// A pin's card when it is tapped on the map: pictogram, text (always as text), territories, status, "me too",
// who can help near here (/api/pins/{id}/actors/) and how many people elsewhere say the same (its cluster).
import { getPin, request, support } from "./api.js";
import { clusterSentence, lang, namesLine, peopleCount, t, themeLabel } from "./i18n.js";
import { icon, statusMark } from "./map.js";
import { remember } from "./mypins.js";
import { paintPicto, theme } from "./themes.js";

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // data from the API: never innerHTML
  return node;
};

// A label from the catalogue when there is one, else the text as the data gives it.
function maybe(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

export const distanceText = (m) =>
  m < 1000 ? t("card.distance_m", { m: Math.round(m) }) : t("card.distance_km", { km: (m / 1000).toFixed(1) });

// A link with its pictogram (inline SVG: the card holds no <img>, user text or not).
function link(href, name, words) {
  const a = el("a", `contact-${name}`);
  a.href = href;
  a.append(icon(name), el("span", "", words));
  return a;
}

// One place of /api/pins/{id}/actors/: name (normal case, the same place once), distance and commune,
// address, opening hours in words in the page's language (as published when they cannot be read), services,
// and what a phone can act on: call (tel:), website, go there (geo:).
export function actorItem(a) {
  const li = el("li", "card-item actor-item");
  li.dataset.actor = a.source_id || "";
  const body = el("div");
  body.append(el("p", "card-theme actor-name", a.name));
  if (a.other_names && a.other_names.length) body.append(el("p", "hint actor-aka", t("help.also", { names: a.other_names.join(", ") })));
  body.append(el("p", "hint actor-where", namesLine([distanceText(a.distance_m || 0), a.commune])));
  if (a.address) body.append(el("p", "hint actor-address", [a.address, a.postcode].filter(Boolean).join(" ")));
  if (a.hours || a.horaires) {
    const hours = el("p", "actor-hours");
    hours.dataset.readable = a.hours ? "true" : "false";
    hours.append(icon("hours"), el("span", "", t("card.hours", { h: a.hours || a.horaires })));
    body.append(hours);
  }
  if (a.services && a.services.length) {
    const services = el("ul", "services");
    for (const s of a.services) services.append(el("li", "", maybe(`service.${s}`, s)));
    body.append(services);
  }
  const contact = el("p", "actor-contact");
  const phone = (a.telephone || "").replace(/[^+\d]/g, "");
  if (phone) contact.append(link(`tel:${phone}`, "phone", `${t("card.call")} ${a.telephone}`));
  if (/^https?:\/\//i.test(a.site_web || "")) {
    const site = link(a.site_web, "web", t("card.website"));
    site.rel = "noopener noreferrer";
    site.target = "_blank";
    contact.append(site);
  }
  const [lon, lat] = (a.location && a.location.coordinates) || [];
  if (Number.isFinite(lat) && Number.isFinite(lon)) {
    // RFC 5870: the phone's own maps app opens on the place, its name as the label.
    const label = encodeURIComponent(a.name).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    contact.append(link(`geo:${lat},${lon}?q=${lat},${lon}(${label})`, "go", t("help.go")));
  }
  if (contact.childNodes.length) body.append(contact);
  const mark = el("span", "actor-dot"); // the help places' mark on the map and in its legend
  mark.append(icon("help"));
  li.append(mark, body);
  return li;
}

export function setupCard({ map, section, toast }) {
  const $ = (sel) => section.querySelector(sel);
  const button = $("#card-support");
  let current = null;
  let opened = 0; // the last card asked for: a slow answer for an older tap is dropped

  // The parts the page's markup does not hold, added once before the buttons.
  const cluster = el("p", "cluster-line");
  cluster.id = "card-cluster";
  cluster.hidden = true;
  const help = el("section", "help");
  help.id = "card-help";
  help.hidden = true;
  help.setAttribute("aria-labelledby", "card-help-title");
  const helpTitle = el("h3");
  helpTitle.id = "card-help-title";
  const actors = el("ul", "cards actors");
  actors.id = "card-actors";
  const none = el("p", "hint");
  none.id = "card-help-none";
  help.append(helpTitle, actors, none);
  // Where else the same need is said (GET /api/clusters/{id}/): its communes in words, its pins ringed on the map.
  const where = el("div", "cluster-where");
  where.hidden = true;
  const see = el("button", "secondary");
  see.type = "button";
  see.id = "card-cluster-see";
  const places = el("p", "hint");
  places.id = "card-cluster-places";
  places.hidden = true;
  where.append(see, places);
  section.querySelector(".nav").before(cluster, where, help);

  function renderStatus() {
    const people = peopleCount(current.support_count || 0);
    $("#card-status").replaceChildren(statusMark(current.status, t(`status.${current.status}`)),
      ...(people ? [document.createTextNode(` · ${people}`)] : []));
    $("#card-status").dataset.status = current.status;
  }

  async function showHelp(id, ticket) {
    let list = null;
    try {
      // Opening hours come back in words in the page's language (carto/hours.py).
      const res = await request(`/api/pins/${encodeURIComponent(id)}/actors/?lang=${encodeURIComponent(lang)}`);
      if (res.status === 200 && res.body) list = res.body.actors || [];
    } catch {
      list = null; // offline: no section rather than a wrong "nobody"
    }
    if (ticket !== opened || list === null) return;
    helpTitle.textContent = t("card.help_title");
    actors.replaceChildren(...list.map(actorItem));
    none.textContent = list.length ? "" : t("card.help_none");
    none.hidden = list.length > 0;
    help.hidden = false;
    help.dataset.count = String(list.length);
  }

  function ringClear() {
    const source = map.getSource("cluster-pins");
    if (source) source.setData({ type: "FeatureCollection", features: [] });
  }

  // The cluster's visible pins (public points) ringed above the map's own, and the map framed on them with room
  // for the card.
  function ring(pins) {
    const data = { type: "FeatureCollection",
      features: pins.map((p) => ({ type: "Feature", geometry: p.location, properties: { id: p.id } })) };
    if (!map.getSource("cluster-pins")) {
      map.addSource("cluster-pins", { type: "geojson", data });
      map.addLayer({ id: "cluster-pins", type: "circle", source: "cluster-pins",
        paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)", "circle-stroke-width": 3,
          "circle-stroke-color": "#3d3d6b" } });
    } else {
      map.getSource("cluster-pins").setData(data);
    }
    if (!pins.length) return;
    const lons = pins.map((p) => p.location.coordinates[0]);
    const lats = pins.map((p) => p.location.coordinates[1]);
    const bottom = Math.min(section.offsetHeight, map.getContainer().clientHeight * 0.5);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
      { padding: { top: 40, left: 40, right: 40, bottom: bottom + 20 }, maxZoom: 14, duration: 600 });
  }

  async function showWhere(clusterId, ticket) {
    see.disabled = true;
    let body = null;
    try {
      const res = await request(`/api/clusters/${encodeURIComponent(clusterId)}/`);
      if (res.status === 200) body = res.body;
    } catch {
      body = null;
    }
    see.disabled = false;
    if (ticket !== opened) return;
    if (!body) {
      toast(t("errors.network"));
      return;
    }
    // In Paris the arrondissements say where; elsewhere the communes (their names as the card's place line), the
    // places with most pins first.
    const names = (body.territories || [])
      .filter((r) => r.kind === "arrondissement" || (r.kind === "commune" && r.code !== "75056"))
      .map((r) => ({ name: r.name.replace(/ Arrondissement$/, ""), pins: r.pin_count }))
      .sort((a, b) => b.pins - a.pins || a.name.localeCompare(b.name, lang))
      .map((r) => r.name);
    places.textContent = t("card.cluster_where", { places: names.join(", ") });
    places.hidden = !names.length;
    // The card steps down to a third of the screen, the sentence and the places in sight, the map above it.
    section.classList.add("peek");
    section.scrollTop = 0;
    cluster.scrollIntoView({ block: "start" });
    ring(body.pins || []);
  }

  async function open(id, fallback) {
    const ticket = ++opened;
    let props = fallback || null;
    try {
      const res = await getPin(id);
      if (res.status === 200) props = res.body.properties;
    } catch {
      // offline: show what the map already has
    }
    if (!props || ticket !== opened) return;
    current = props;
    const th = theme(props.theme);
    paintPicto($("#card-picto"), props.theme);
    $("#card-title").textContent = `${th ? themeLabel(th) : props.theme} · ${t(`kind.${props.kind}`)}`;
    $("#card-text").textContent = props.text || ""; // user text: never innerHTML
    const terr = typeof props.territories === "object" && props.territories ? props.territories : {};
    // In Paris the arrondissement names the commune too: "Grand Belleville · Paris 20e", as the street labels say it.
    const arrondissement = terr.arrondissement && terr.arrondissement.name.replace(/ Arrondissement$/, "");
    const places = arrondissement ? [terr.qpv && terr.qpv.name, arrondissement]
      : ["qpv", "commune", "ept"].map((k) => terr[k] && terr[k].name);
    $("#card-place").textContent = namesLine(places);
    renderStatus();
    button.textContent = t("card.metoo");
    button.disabled = false;
    // The pin detail gives its cluster's counts, or null while the pin is alone in it (or not clustered yet).
    cluster.textContent = props.cluster ? clusterSentence(props.cluster) : "";
    cluster.hidden = !props.cluster;
    where.hidden = !props.cluster;
    section.classList.remove("peek");
    where.dataset.cluster = props.cluster ? String(props.cluster.id) : "";
    see.textContent = t("card.cluster_see");
    places.hidden = true;
    ringClear();
    help.hidden = true;
    actors.replaceChildren();
    section.dataset.pinId = String(props.id);
    section.hidden = false;
    $("#card-title").focus();
    showHelp(props.id, ticket);
  }

  button.addEventListener("click", async () => {
    if (!current) return;
    button.disabled = true;
    try {
      const res = await support(current.id);
      if (res.status >= 400) throw new Error(String(res.status));
      current.support_count = res.body.support_count;
      remember(current.id);
      renderStatus();
      button.textContent = t("card.supported");
    } catch {
      button.disabled = false;
      toast(t("errors.network"));
    }
  });
  see.addEventListener("click", () => {
    if (where.dataset.cluster) showWhere(where.dataset.cluster, opened);
  });
  section.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=close]")) {
      section.hidden = true;
      ringClear();
    }
  });

  // A tile feature carries the pin's id and public fields; the card asks the API for the rest.
  map.on("click", "pins", (e) => {
    const f = e.features[0];
    open(f.properties.id, f.properties);
  });
  // A cell of the low zooms: come closer, towards the pins it counts.
  map.on("click", "pin-cells", (e) => {
    const f = e.features[0];
    map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(Math.max(map.getZoom() + 2, 13), 16) });
  });
  for (const layer of ["pins", "pin-cells"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  return { open };
}
