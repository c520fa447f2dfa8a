// The moderation queue: lists pending and flagged pins, hides / restores / redacts them with a reason.
// Residents' text is only ever set with textContent (never parsed as markup).

import { request } from "./api.js";

const FLAG_LABELS = {
  spam: "spam",
  insult: "insulte",
  personal_data: "données personnelles",
  off_topic: "hors sujet",
};
const STATUS_LABELS = { pending: "en attente", hidden: "masqué" };

const statusLine = document.getElementById("status");
const template = document.getElementById("item");

function say(message) {
  statusLine.textContent = message;
}

function describeFlags(flags) {
  const parts = Object.entries(flags).map(([reason, n]) => `${FLAG_LABELS[reason] || reason} × ${n}`);
  return parts.length ? `Signalements : ${parts.join(", ")}` : "";
}

function renderItem(pin) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.pin = String(pin.id);
  const status = STATUS_LABELS[pin.status] || "visible";
  node.querySelector(".meta").textContent = `#${pin.id} · ${pin.theme} · ${pin.commune} · ${status}`;
  node.querySelector(".text").textContent = pin.text;
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
    say("Indiquez une raison.");
    why.focus();
    return;
  }
  const json = { reason };
  if (op === "redact") json.text = node.querySelector(".new-text").value;
  const { status, body } = await request(`/api/moderation/pins/${pinId}/${op}/`, { method: "POST", json });
  if (status !== 200) {
    say(body && body.error ? body.error.message : `Erreur ${status}`);
    return;
  }
  say(`#${pinId} : ${op === "hide" ? "masqué" : op === "restore" ? "rétabli" : "modifié"}.`);
  await load();
}

function fill(listId, pins) {
  const list = document.getElementById(listId);
  list.replaceChildren(...pins.map(renderItem));
  document.getElementById(`${listId}-count`).textContent = `(${pins.length})`;
}

async function load() {
  const { status, body } = await request("/api/moderation/queue/");
  if (status !== 200) {
    say(body && body.error ? body.error.message : `Erreur ${status}`);
    return;
  }
  fill("pending", body.pending);
  fill("flagged", body.flagged);
  document.getElementById("moderation").dataset.ready = "true";
}

load();
