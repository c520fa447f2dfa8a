// The resident's 3 steps — where, what, a few words — then similar pins first (and how many say the same
// elsewhere in the Métropole), then the confirmation.
import { getSimilar, support } from "./api.js";
import { clusterSentence, lang, peopleCount, plural, t, themeEasy, themeLabel } from "./i18n.js";
import { communeAt, icon, placeIcons } from "./map.js";
import { remember } from "./mypins.js";
import { setupNearLine, setupPlaceSearch } from "./places.js";
import { enqueue, flush, heldForReview, onSettled, pending } from "./queue.js";
import { groups, leaves, paintPicto, picto, theme } from "./themes.js";

const STEPS = ["where", "what", "words"];
const SIMILAR_TIMEOUT_MS = 6000; // past this, send rather than keep a resident waiting on a slow network
const PHOTO_MAX_PX = 1600;

export function setupFlow({ map, sheet, addButton, centrePin, toast }) {
  const $ = (sel) => sheet.querySelector(sel);
  const aidant = sheet.dataset.aidant === "1";
  const outcomes = new Map(); // client_uuid → server outcome, filled by the queue
  let pin = null;
  let sending = false;
  let photoReady = Promise.resolve();

  onSettled((outcome) => {
    outcomes.set(outcome.pin.client_uuid, outcome);
    if (outcome.ok && outcome.body) remember(outcome.body.id || outcome.body.properties.id);
  });
  // The pictograms of the buttons ("C'est ici", "Suivant", "Envoyer", "Retour"), of the add button and of the
  // first screen's notice (pins are public and may be checked).
  placeIcons(sheet);
  placeIcons(addButton);

  function show(step) {
    sheet.querySelectorAll(".step").forEach((el) => { el.hidden = el.dataset.step !== step; });
    const index = STEPS.indexOf(step);
    $("#flow-progress").textContent = index >= 0 ? t("flow.progress", { n: index + 1, total: STEPS.length }) : "";
    sheet.classList.toggle("compact", step === "where");
    centrePin.hidden = step !== "where";
    sheet.dataset.current = step;
    if (step === "where") near.refresh();
    // Focus the new step's heading so a screen reader announces it and keyboard order restarts there.
    sheet.querySelector(`[data-step="${step}"] h2`).focus();
  }

  function start() {
    pin = { client_uuid: crypto.randomUUID(), theme: null, kind: null, photo: null };
    photoReady = Promise.resolve();
    $("#pin-text").value = "";
    $("#pin-photo").value = "";
    $("#photo-name").textContent = "";
    placeSearch.reset();
    near.clear();
    $("#what-error").textContent = "";
    $("#words-error").textContent = "";
    if (aidant) $("#consent").checked = false;
    renderThemes();
    renderKinds();
    sheet.hidden = false;
    addButton.hidden = true;
    show("where");
  }

  function close() {
    sheet.hidden = true;
    centrePin.hidden = true;
    addButton.hidden = false;
    addButton.focus();
  }

  // --- where -------------------------------------------------------------------------------------------
  $("#locate").addEventListener("click", () => {
    if (!navigator.geolocation) return toast(t("where.no_position"));
    navigator.geolocation.getCurrentPosition(
      (pos) => map.jumpTo({ center: [pos.coords.longitude, pos.coords.latitude], zoom: 16 }),
      () => toast(t("where.no_position")),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
  // Any commune, arrondissement, QPV or station, at any zoom (the API, not what the map has loaded).
  const placeSearch = setupPlaceSearch({ map, input: $("#place-search"), list: $("#place-results"), status: $("#place-status") });
  // What is near the centre pin, while the resident chooses where.
  const near = setupNearLine({ map, line: $("#place-near"), isActive: () => !sheet.hidden && sheet.dataset.current === "where" });

  // --- what --------------------------------------------------------------------------------------------
  function renderThemes() {
    const box = $("#themes");
    box.replaceChildren();
    for (const group of groups()) {
      const h = document.createElement("h3");
      h.textContent = themeLabel(group);
      box.append(h);
      const grid = document.createElement("div");
      grid.className = "theme-grid";
      for (const leaf of leaves().filter((x) => x.parent === group.slug)) grid.append(themeButton(leaf));
      box.append(grid);
    }
  }

  function themeButton(leaf) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "theme";
    button.dataset.theme = leaf.slug;
    button.setAttribute("aria-pressed", String(pin.theme === leaf.slug));
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = themeLabel(leaf);
    const easy = document.createElement("span");
    easy.className = "easy-text";
    easy.textContent = themeEasy(leaf);
    button.append(picto(leaf.slug), label, easy);
    button.addEventListener("click", () => {
      pin.theme = leaf.slug;
      sheet.querySelectorAll(".theme").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      $("#what-error").textContent = "";
      $("#kind-title").scrollIntoView({ block: "nearest" });
    });
    return button;
  }

  function renderKinds() {
    sheet.querySelectorAll(".kind").forEach((b) => b.setAttribute("aria-pressed", String(pin.kind === b.dataset.kind)));
  }
  sheet.querySelectorAll(".kind").forEach((button) => button.addEventListener("click", () => {
    pin.kind = button.dataset.kind;
    renderKinds();
    $("#what-error").textContent = "";
  }));

  // --- a few words -------------------------------------------------------------------------------------
  // Shrinking a camera photo takes a second or more on a slow phone: "send" waits for it (photoReady), never
  // sending the pin without the photo the resident chose.
  $("#pin-photo").addEventListener("change", (e) => {
    const file = e.target.files[0];
    const target = pin;
    target.photo = null;
    target.photoName = null;
    $("#photo-name").textContent = "";
    photoReady = (file ? shrink(file) : Promise.resolve(null)).then((photo) => {
      if (target !== pin) return; // a new pin was started meanwhile
      target.photo = photo;
      target.photoName = photo ? "photo.jpg" : null;
      $("#photo-name").textContent = photo ? t("words.photo_ready") : "";
    });
  });

  function readWords() {
    const text = $("#pin-text").value.trim();
    // The API wants some text: with none, the theme's label in the resident's language says it.
    pin.text = text || themeLabel(theme(pin.theme));
    pin.lat = Number(pin.lngLat.lat.toFixed(6));
    pin.lon = Number(pin.lngLat.lng.toFixed(6));
    pin.language = lang;
    if (aidant) {
      const structure = $("#structure").value;
      if (!structure) return t("aidant.structure_missing");
      if (!$("#consent").checked) return t("aidant.consent_missing");
      localStorage.setItem("carto.structure", structure);
      pin.mediated = { structure, consent: true };
    }
    return "";
  }

  // --- navigation --------------------------------------------------------------------------------------
  sheet.addEventListener("click", async (e) => {
    const action = e.target.closest("[data-action]")?.dataset.action;
    const step = sheet.dataset.current;
    if (!action) return;
    if (action === "cancel" || action === "close") return close();
    if (action === "next-person") return start();
    if (action === "back") return show(step === "similar" ? "words" : STEPS[STEPS.indexOf(step) - 1]);
    if (action === "next" && step === "where") {
      pin.lngLat = map.getCenter();
      pin.place = communeAt(map, pin.lngLat);
      return show("what");
    }
    if (action === "next" && step === "what") {
      if (!pin.theme || !pin.kind) {
        $("#what-error").textContent = t(pin.theme ? "what.missing_kind" : "what.missing_theme");
        return;
      }
      return show("words");
    }
    if (action === "send") {
      const problem = readWords();
      $("#words-error").textContent = problem;
      if (problem) return aidant && $("#consent").focus();
      const button = e.target.closest("[data-action]");
      if (await busy(button, showSimilar)) return;
      return busy(button, submit);
    }
    if (action === "send-anyway") return busy(e.target.closest("[data-action]"), submit);
  });

  // While the similar pins or the server are awaited (seconds on a slow network), the button says so, in the
  // resident's language, and a second tap does nothing.
  async function busy(button, work) {
    const words = button.querySelector("[data-i18n]");
    const key = words.dataset.i18n;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    relabel(button, "nav.sending");
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      relabel(button, key);
    }
  }

  // --- similar first -----------------------------------------------------------------------------------
  // Twins nearby to support instead, and the cluster of the same need anywhere in the Métropole: the step
  // shows when either exists; without twins it only says that others say the same, and "send" stays one tap.
  async function showSimilar() {
    if (!navigator.onLine) return false;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SIMILAR_TIMEOUT_MS);
    let results = [];
    let elsewhere = null;
    try {
      const res = await getSimilar({ lat: pin.lat, lon: pin.lon, theme: pin.theme, text: $("#pin-text").value.trim() }, controller.signal);
      if (res.status === 200 && res.body) {
        results = res.body.results || [];
        elsewhere = res.body.cluster || null;
      }
    } catch {
      results = [];
    } finally {
      clearTimeout(timer);
    }
    if (!results.length && !elsewhere) return false;
    $("#similar-list").replaceChildren(...results.slice(0, 5).map(similarCard));
    $("#similar-hint").hidden = !results.length;
    const line = $("#similar-elsewhere");
    line.textContent = elsewhere ? clusterSentence(elsewhere, "similar.elsewhere") : "";
    line.hidden = !elsewhere;
    relabel($("#similar-title"), results.length ? "similar.title" : "similar.title_elsewhere");
    relabel($("#send-anyway"), results.length ? "similar.mine" : "nav.send");
    show("similar");
    return true;
  }

  // A catalogue key that a language change (translate()) keeps as well; a button's words are in its own
  // span, beside its pictogram.
  function relabel(node, key) {
    const words = node.querySelector("[data-i18n]") || node;
    words.dataset.i18n = key;
    words.textContent = t(key);
  }

  function similarCard(r) {
    const li = document.createElement("li");
    li.className = "card-item";
    li.dataset.pinId = r.id;
    const body = document.createElement("div");
    const text = document.createElement("p");
    text.className = "quote";
    text.textContent = r.text;
    const meta = document.createElement("p");
    meta.className = "hint";
    const count = document.createElement("span");
    count.className = "count";
    // "à 120 m · 3 personnes", or the distance alone while nobody has said "me too".
    const distance = t("similar.distance", { m: Math.round(r.distance_m || 0) });
    const renderMeta = (n) => {
      count.textContent = peopleCount(n);
      meta.replaceChildren(...(n > 0 ? [document.createTextNode(`${distance} · `), count] : [document.createTextNode(distance)]));
    };
    renderMeta(r.support_count || 0);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary metoo";
    button.textContent = t("card.metoo");
    button.addEventListener("click", async () => {
      button.disabled = true; // one tap, one support: a second tap does nothing
      try {
        const res = await support(r.id);
        if (res.status >= 400) throw new Error(String(res.status));
        renderMeta(res.body.support_count || 0);
        remember(r.id);
        confirm({ supported: true, slug: r.theme, text: r.text, place: pin.place, count: res.body.support_count });
      } catch {
        button.disabled = false;
        toast(t("errors.network"));
      }
    });
    body.append(text, meta, button);
    li.append(picto(r.theme), body);
    return li;
  }

  // --- send (through the queue, so a dropped network or a reload never loses nor doubles a pin) ---------
  async function submit() {
    if (sending) return;
    sending = true;
    try {
      await photoReady;
      const record = { ...pin };
      delete record.lngLat;
      delete record.place;
      await enqueue(record);
      await flush();
      const outcome = outcomes.get(pin.client_uuid);
      const stillQueued = (await pending()).some((p) => p.client_uuid === pin.client_uuid);
      if (outcome && !outcome.ok) {
        show("words");
        $("#words-error").textContent = errorText(outcome);
        return;
      }
      const props = outcome && outcome.body ? outcome.body.properties || {} : {};
      const place = (props.territories && props.territories.commune && props.territories.commune.name) || pin.place;
      const queued = stillQueued || !outcome;
      const waiting = queued ? (await pending()).length : 0;
      const held = !queued && heldForReview(outcome);
      confirm({ queued, held, waiting, slug: pin.theme, text: pin.text, place, kind: pin.kind });
    } finally {
      sending = false;
    }
  }

  function confirm({ supported, queued, held, waiting, slug, text, place, count }) {
    paintPicto($("#done-picto"), slug);
    $("#done-title").textContent = t(supported ? "done.supported_title" : "done.title");
    $("#done-place").textContent = place ? t("done.place", { place }) : "";
    $("#done-text").textContent = text;
    const state = supported ? "supported" : queued ? "queued" : held ? "held" : "sent";
    renderOutcome($("#done-status"), state, { waiting, count });
    // Beside the pictogram and its word, a sentence for who reads more (its easy-read form in that mode).
    const detail = { queued: "done.queued", held: "outcome.held_detail" }[state];
    $("#done-detail").textContent = detail ? t(detail) : "";
    $("#done-detail").hidden = !detail;
    show("done");
  }

  addButton.addEventListener("click", start);
  return { start, close };
}

// What became of the pin: a pictogram and one word — sent ✓, waiting for the network (and how many pins
// wait on this phone), held for review — the same in easy-read mode.
const OUTCOMES = {
  sent: ["sent", "done.sent"],
  queued: ["queued", "outcome.queued"],
  held: ["held", "status.pending"],
  supported: ["sent", "done.supported"],
};

function renderOutcome(node, state, { waiting = 0, count = 0 } = {}) {
  const [name, key] = OUTCOMES[state];
  const word = document.createElement("span");
  word.className = "outcome-word";
  word.textContent = t(key, { n: count, people: plural("count.people", count) });
  node.replaceChildren(icon(name, "icon outcome-icon"), word);
  if (state === "queued" && waiting > 0) {
    const badge = document.createElement("span");
    badge.className = "outcome-count";
    badge.textContent = t("outcome.waiting", { n: waiting, pins: plural("count.pins", waiting) });
    node.append(badge);
  }
  node.className = `outcome outcome-${state}`;
  node.dataset.state = state;
  node.dataset.waiting = String(waiting);
}

export function errorText(outcome) {
  const code = outcome.body && outcome.body.error ? outcome.body.error.code : "";
  const key = `errors.${code}`;
  const text = t(key);
  return text === key ? t("errors.generic") : text;
}

// A phone photo is often 4–8 MB: re-encode it to at most 1600 px JPEG before it waits in the queue or travels on 3G.
async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, PHOTO_MAX_PX / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
    return blob && blob.size < file.size ? blob : file;
  } catch {
    return file;
  }
}
