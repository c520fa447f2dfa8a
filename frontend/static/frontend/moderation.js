// The moderation queue: lists pending and flagged pins, hides / restores / redacts them with a reason; and the
// pins that joined their cluster with the weakest similarity, where a curator says "same need" or not
// (curate.js). Every word from the i18n catalogues; residents' text only ever set with textContent.

import { request } from "./api.js";
import { curateButtons } from "./curate.js";
import { detectLanguage, setLanguage, t, translate } from "./i18n.js";

const page = document.getElementById("moderation");
const curator = page.dataset.curator === "1"; // the view asks carto's is_curator
const statusLine = document.getElementById("status");
let queue = null; // the last answer of /api/moderation/queue/, drawn again on a language change

function say(message) {
  statusLine.textContent = message;
}

const problem = (status, body) => (body && body.error ? body.error.message : t("moderation.error", { status }));

function describeFlags(flags) {
  const parts = Object.entries(flags).map(([reason, n]) => {
    const key = `moderation.flag.${reason}`;
    return `${t(key) === key ? reason : t(key)} × ${n}`;
  });
  return parts.length ? t("moderation.flags", { list: parts.join(", ") }) : "";
}

// A copy of one of the page's <template>s, its words from the catalogue, with the pin's meta line and text.
function copy(templateId, pin) {
  const node = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
  translate(node);
  node.dataset.pin = String(pin.id);
  const state = ["pending", "hidden"].includes(pin.status) ? pin.status : "visible";
  node.querySelector(".meta").textContent = `#${pin.id} · ${pin.theme} · ${pin.commune} · ${t(`moderation.state.${state}`)}`;
  node.querySelector(".text").textContent = pin.text;
  return node;
}

function renderItem(pin) {
  const node = copy("item", pin);
  node.querySelector(".reason").textContent = pin.status_reason;
  node.querySelector(".flags").textContent = describeFlags(pin.flags);
  const hidden = pin.status === "hidden" || pin.status === "pending";
  node.querySelector('[data-op="hide"]').hidden = pin.status === "hidden";
  node.querySelector('[data-op="restore"]').hidden = !hidden;
  node.querySelector(".new-text").value = pin.text;
  for (const button of node.querySelectorAll("button[data-op]")) {
    button.addEventListener("click", () => act(node, pin.id, button.dataset.op));
  }
  return node;
}

// A pin of the "clustering" list: its text, its cluster's label, and the curator's two buttons for that cluster.
function renderClusteringItem(pin) {
  const node = copy("clustering-item", pin);
  const text = node.querySelector(".text");
  text.id = `pin-${pin.id}-text`;
  node.dataset.cluster = String(pin.cluster.id);
  node.querySelector(".cluster-label").textContent = t("moderation.cluster", { label: pin.cluster.label });
  node.append(curateButtons({
    clusterId: pin.cluster.id,
    pinId: pin.id,
    describedBy: text.id,
    onDecided: async (_cluster, same) => {
      say(t(same ? "curate.saved_same" : "curate.saved_apart"));
      await load(); // the queue as it is now: a pin moved out of its cluster has left the list
    },
    onFailed: (res) => say(res ? problem(res.status, res.body) : t("curate.error")),
  }));
  return node;
}

async function act(node, pinId, op) {
  const why = node.querySelector(".why");
  const redactField = node.querySelector(".redact-field");
  if (op === "redact" && redactField.hidden) {
    redactField.hidden = false;
    node.querySelector(".new-text").focus();
    return;
  }
  const reason = why.value.trim();
  if (!reason) {
    say(t("moderation.need_reason"));
    why.focus();
    return;
  }
  const json = { reason };
  if (op === "redact") json.text = node.querySelector(".new-text").value;
  const { status, body } = await request(`/api/moderation/pins/${pinId}/${op}/`, { method: "POST", json });
  if (status !== 200) {
    say(problem(status, body));
    return;
  }
  say(t(`moderation.done.${op}`, { id: pinId }));
  await load();
}

function fill(listId, pins, render) {
  const list = document.getElementById(listId);
  list.replaceChildren(...pins.map(render));
  document.getElementById(`${listId}-count`).textContent = `(${pins.length})`;
}

function draw() {
  fill("pending", queue.pending, renderItem);
  fill("flagged", queue.flagged, renderItem);
  // Only curators can teach the clustering (the API refuses the others' decisions).
  const clustering = curator ? (queue.clustering || []).filter((pin) => pin.cluster) : [];
  document.getElementById("clustering-section").hidden = !curator;
  fill("clustering", clustering, renderClusteringItem);
}

async function load() {
  const { status, body } = await request("/api/moderation/queue/");
  if (status !== 200) {
    say(problem(status, body));
    return;
  }
  queue = body;
  draw();
  page.dataset.ready = "true";
}

async function start() {
  const select = document.getElementById("lang");
  select.value = detectLanguage();
  await setLanguage(select.value);
  document.title = t("moderation.title");
  select.addEventListener("change", async () => {
    await setLanguage(select.value);
    document.title = t("moderation.title");
    if (queue) draw();
  });
  await load();
}

start();
