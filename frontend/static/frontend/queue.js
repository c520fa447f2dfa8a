// The outbox: pins waiting for the network, in IndexedDB so they survive reloads and closed tabs.
// Keyed by client_uuid: the server treats a replay of the same uuid as the same pin, so retrying never duplicates.
import { postPin } from "./api.js";

const DB = "carto";
const STORE = "outbox";
const BACKOFF_MS = [2000, 5000, 15000, 60000, 300000];

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "client_uuid" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = fn(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

export const enqueue = (pin) => tx("readwrite", (s) => s.put({ attempts: 0, nextAttempt: 0, ...pin }));
export const pending = () => tx("readonly", (s) => s.getAll());
const remove = (uuid) => tx("readwrite", (s) => s.delete(uuid));
const save = (pin) => tx("readwrite", (s) => s.put(pin));

let chain = Promise.resolve();
let timer = null;
const listeners = new Set();
export const onSettled = (fn) => listeners.add(fn);
// A settled pin the server keeps for a moderator before anyone sees it (carto.services.abuse).
export const heldForReview = (outcome) => Boolean(outcome.ok && outcome.body && (outcome.body.properties || {}).status === "pending");

// Send what is due. Success or a definitive refusal (4xx other than 408/429/theme_changed) removes the entry —
// the text, the photo and the position leave the phone's storage; anything else waits with back-off.
// Passes run one after another (never two at once, so one entry is never posted twice in parallel), and a
// call made during a pass gets a pass of its own: a pin queued a moment ago is never skipped.
export function flush() {
  chain = chain.then(doFlush, doFlush);
  return chain;
}

async function doFlush() {
  const now = Date.now();
  for (const pin of await pending()) {
    if (pin.nextAttempt > now) continue;
    let outcome;
    try {
      const res = await postPin(pin);
      // theme_changed: the theme was edited during the request; the server asks for the same pin again.
      const transient = ((res.body || {}).error || {}).code === "theme_changed";
      const retry = res.status >= 500 || res.status === 408 || res.status === 429 || transient;
      outcome = retry ? null : { pin, ok: res.status < 300, status: res.status, body: res.body };
    } catch {
      outcome = null;
    }
    if (outcome) {
      await remove(pin.client_uuid);
      listeners.forEach((fn) => fn(outcome));
    } else {
      pin.attempts += 1;
      pin.nextAttempt = Date.now() + BACKOFF_MS[Math.min(pin.attempts - 1, BACKOFF_MS.length - 1)];
      await save(pin);
    }
  }
  schedule();
}

async function schedule() {
  clearTimeout(timer);
  const items = await pending();
  if (!items.length) return;
  const wait = Math.max(500, Math.min(...items.map((p) => p.nextAttempt)) - Date.now());
  timer = setTimeout(flush, wait);
}

// When the network returns, everything is due at once.
export async function retryNow() {
  for (const pin of await pending()) await save({ ...pin, nextAttempt: 0 });
  return flush();
}

addEventListener("online", retryNow);
