// Thin calls to carto's JSON API. Every write carries the device token; session writes carry the CSRF token.

const TOKEN_KEY = "carto.device";

export function deviceToken() {
  let token = localStorage.getItem(TOKEN_KEY);
  if (!token) {
    // A random identity for this phone only: no account, nothing personal (used for "my pins" and "me too").
    token = crypto.randomUUID().replaceAll("-", "");
    localStorage.setItem(TOKEN_KEY, token);
  }
  return token;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// A stalled connection (a phone between two cells) can hang a request for minutes without an error: every
// request gives up after its timeout, as if the network had failed, so the page moves on (a pin waits in the
// queue, which retries it with back-off; its client_uuid makes a replay of an answered POST harmless).
const TIMEOUT_MS = 30000;
const WRITE_TIMEOUT_MS = 15000; // a pin without photo is ~1 KB: a few round trips even on a slow network
const UPLOAD_BYTES_PER_MS = 8; // 64 kbit/s, an EDGE uplink: a photo's extra time before giving up

// Returns {status, body, headers}; throws only on network failure or timeout (the caller decides whether to queue).
export async function request(url, { method = "GET", json, form, signal, timeout = TIMEOUT_MS } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  if (signal) {
    if (signal.aborted) controller.abort();
    signal.addEventListener("abort", () => controller.abort());
  }
  try {
    return await send(url, { method, json, form, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function send(url, { method, json, form, signal }) {
  const headers = { "X-Device-Token": deviceToken(), Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  const response = await fetch(url, { method, headers, body, signal, credentials: "same-origin" });
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    if (signal.aborted) throw error; // the body stalled: a network failure, not an empty answer
    data = null;
  }
  return { status: response.status, body: data, headers: response.headers };
}

export const getThemes = () => request("/api/themes/");
export const getPin = (id) => request(`/api/pins/${encodeURIComponent(id)}/`);
export const getMine = (ids) => request(`/api/pins/mine/?ids=${ids.map(encodeURIComponent).join(",")}`);
export const support = (id) => request(`/api/pins/${encodeURIComponent(id)}/support/`, { method: "POST", json: {} });

export function getPins(bbox, url) {
  return request(url || `/api/pins/?bbox=${bbox.map((n) => n.toFixed(5)).join(",")}`);
}

// Communes, arrondissements, QPV and stations matching the text, at any zoom (≤ 10, best first).
export const getPlaces = (q, signal) => request(`/api/places/?${new URLSearchParams({ q })}`, { signal });
// The nearest station within 1 km and the commune, arrondissement and QPV of a point.
export const getNear = ({ lat, lon }, signal) => request(`/api/places/near/?${new URLSearchParams({ lat, lon })}`, { signal });

export function getSimilar({ lat, lon, theme, text }, signal) {
  const q = new URLSearchParams({ lat, lon, theme, text: text || "" });
  return request(`/api/pins/similar/?${q}`, { signal });
}

// One pin as stored in the queue → one POST: JSON, or multipart when there is a photo.
export function postPin(pin) {
  const fields = {
    client_uuid: pin.client_uuid, kind: pin.kind, theme: pin.theme, text: pin.text,
    lat: pin.lat, lon: pin.lon, language: pin.language,
  };
  if (!pin.photo) {
    if (pin.mediated) fields.mediated = pin.mediated;
    return request("/api/pins/", { method: "POST", json: fields, timeout: WRITE_TIMEOUT_MS });
  }
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
  // The pins API reads nested objects of a multipart form as JSON text (api/serializers/pins.py).
  if (pin.mediated) form.append("mediated", JSON.stringify(pin.mediated));
  form.append("photo", pin.photo, pin.photoName || "photo.jpg");
  const timeout = WRITE_TIMEOUT_MS + pin.photo.size / UPLOAD_BYTES_PER_MS;
  return request("/api/pins/", { method: "POST", form, timeout });
}
