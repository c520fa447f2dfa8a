// The "where" step's search and its orientation line, both from carto's API at any zoom:
// - a combobox over GET /api/places/?q= (communes, arrondissements, QPV, stations, and streets once the
//   operator's basemap is imported), following the WAI-ARIA
//   combobox pattern: the input keeps the focus, ↑/↓ move the active option (aria-activedescendant), Enter
//   picks it, Escape closes the list; picking moves the map there so the centre pin is already placed;
// - a line naming what is near the map's centre, from GET /api/places/near/ ("près de Belleville · M2 M11 ·
//   QPV Grand Belleville"), refreshed when the map stops moving (drag, "Ma position" or a search).
import { getNear, getPlaces } from "./api.js";
import { namesLine, plural, t } from "./i18n.js";

const SEARCH_DELAY_MS = 200; // one request per pause in typing, not per key
const NEAR_DELAY_MS = 250;
const MIN_LENGTH = 2; // as the API (carto.services.places.QUERY_MIN_LENGTH)
const STATION_ZOOM = 16;
const STREET_ZOOM = 17; // a street and its doorsteps: the resident places the pin on the right side of it
const MAX_FIT_ZOOM = 16;

export function setupPlaceSearch({ map, input, list, status, onPick }) {
  let results = [];
  let active = -1;
  let timer = null;
  let controller = null;
  const optionId = (index) => `${list.dataset.optionPrefix || "place-option"}-${index}`; // unique per list

  function close() {
    list.replaceChildren();
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    results = [];
    active = -1;
  }

  function render() {
    list.replaceChildren(...results.map((place, index) => {
      const li = document.createElement("li");
      li.id = optionId(index);
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(index === active));
      li.dataset.kind = place.kind;
      const label = document.createElement("span");
      label.className = "place-label";
      label.textContent = place.label;
      const kind = document.createElement("span");
      kind.className = "place-kind";
      kind.textContent = t(`place.kind.${place.kind}`);
      li.append(label, kind);
      // pointerdown, not click: the input must not lose the focus (and close the list) before the pick.
      li.addEventListener("pointerdown", (e) => { e.preventDefault(); pick(index); });
      return li;
    }));
    list.hidden = !results.length;
    input.setAttribute("aria-expanded", String(results.length > 0));
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", optionId(active));
      list.children[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  async function search(text) {
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = controller;
    try {
      const res = await getPlaces(text, mine.signal);
      if (mine.signal.aborted) return;
      results = res.status === 200 && res.body ? res.body.results : [];
    } catch {
      if (mine.signal.aborted) return;
      results = [];
      status.textContent = t("place.offline");
      return close();
    }
    active = -1;
    render();
    list.dataset.query = text; // what the options answer (typing on, an older answer may still be shown)
    status.textContent = results.length ? plural("place.results", results.length) : t("place.none");
  }

  function pick(index) {
    const place = results[index];
    if (!place) return;
    if (place.kind === "street") {
      map.jumpTo({ center: [place.lon, place.lat], zoom: STREET_ZOOM }); // a point on the street, not its box's centre
    } else if (place.bbox) {
      // The box's centre may lie outside the place (a crescent-shaped commune): the centre pin goes to a
      // point inside it, at the zoom that shows the whole place around that point (the box made symmetric
      // about it: a quartier is framed whole, not cut by the move).
      const [w, s, e, n] = place.bbox;
      const dx = Math.max(place.lon - w, e - place.lon), dy = Math.max(place.lat - s, n - place.lat);
      map.fitBounds([[place.lon - dx, place.lat - dy], [place.lon + dx, place.lat + dy]], { padding: 20, maxZoom: MAX_FIT_ZOOM, animate: false });
      map.jumpTo({ center: [place.lon, place.lat] });
    } else {
      map.jumpTo({ center: [place.lon, place.lat], zoom: STATION_ZOOM });
    }
    input.value = place.name;
    close();
    status.textContent = t("place.moved", { name: place.label });
    // The map draws a picked quartier's outline (quartier.js).
    input.dispatchEvent(new CustomEvent("carto:place", { detail: place, bubbles: true }));
    if (onPick) onPick(place);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < MIN_LENGTH) {
      if (controller) controller.abort();
      status.textContent = "";
      return close();
    }
    timer = setTimeout(() => search(text), SEARCH_DELAY_MS);
  });

  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!results.length) return;
      e.preventDefault();
      const down = e.key === "ArrowDown";
      if (active < 0) active = down ? 0 : results.length - 1;
      else active = (active + (down ? 1 : -1) + results.length) % results.length;
      render();
    } else if (e.key === "Enter") {
      if (!results.length) return;
      e.preventDefault(); // never submit nor move to the next step from the search box
      pick(active >= 0 ? active : 0);
    } else if (e.key === "Escape" && results.length) {
      e.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  return {
    reset() {
      clearTimeout(timer);
      if (controller) controller.abort();
      input.value = "";
      status.textContent = "";
      close();
    },
  };
}

// "près de Belleville · M2 M11 · QPV Grand Belleville" for a /api/places/near/ answer ("" when nothing is known).
export function nearSentence(near) {
  if (!near) return "";
  if (!near.inside_metropole) return t("orient.outside");
  const parts = [];
  if (near.station) parts.push(t("orient.near_station", { station: near.station.label }));
  if (near.qpv) parts.push(t("orient.qpv", { name: near.qpv.name }));
  if (!parts.length) {
    const where = near.arrondissement || near.commune;
    if (where) parts.push(where.name);
  }
  return namesLine(parts);
}

export function setupNearLine({ map, line, isActive }) {
  let timer = null;
  let controller = null;

  async function refresh() {
    if (!isActive()) return;
    if (controller) controller.abort();
    controller = new AbortController();
    const mine = controller;
    const centre = map.getCenter();
    try {
      const res = await getNear({ lat: centre.lat.toFixed(6), lon: centre.lng.toFixed(6) }, mine.signal);
      if (mine.signal.aborted) return;
      const text = res.status === 200 ? nearSentence(res.body) : "";
      line.textContent = text;
      line.hidden = !text;
    } catch {
      if (!mine.signal.aborted) line.hidden = true; // offline: the map alone still works
    }
  }

  map.on("moveend", () => {
    clearTimeout(timer);
    if (isActive()) timer = setTimeout(refresh, NEAR_DELAY_MS);
  });

  return {
    refresh,
    clear() {
      clearTimeout(timer);
      if (controller) controller.abort();
      line.textContent = "";
      line.hidden = true;
    },
  };
}
