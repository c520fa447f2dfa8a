// "My pins": the ids this phone made (ids only, no account), their status from /api/pins/mine/.
import { getMine } from "./api.js";
import { lang, namesLine, peopleCount, plural, t, themeLabel } from "./i18n.js";
import { icon, statusMark } from "./map.js";
import { pending } from "./queue.js";
import { picto, theme } from "./themes.js";

const KEY = "carto.mine";

export const myIds = () => JSON.parse(localStorage.getItem(KEY) || "[]");

export function remember(id) {
  const ids = myIds();
  if (!ids.includes(id)) localStorage.setItem(KEY, JSON.stringify([...ids, id].slice(-200)));
}

export async function renderMine(section) {
  const list = section.querySelector("#mine-list");
  const waiting = (await pending()).length;
  const queue = section.querySelector("#mine-queue");
  const waitingText = t("mine.waiting", { n: waiting, pins: plural("count.pins", waiting) });
  queue.replaceChildren(...(waiting ? [icon("queued"), document.createTextNode(waitingText)] : []));
  queue.dataset.waiting = String(waiting);
  list.replaceChildren();
  const ids = myIds();
  section.querySelector("#mine-empty").hidden = ids.length > 0 || waiting > 0;
  if (!ids.length) return;
  let res;
  try {
    res = await getMine(ids);
  } catch {
    queue.replaceChildren(...(waiting ? [icon("queued"), document.createTextNode(`${waitingText} · `)] : []),
      document.createTextNode(t("mine.offline")));
    return;
  }
  const features = (res.body && res.body.features) || [];
  features.sort((a, b) => (b.properties.created_at || "").localeCompare(a.properties.created_at || ""));
  for (const f of features) list.append(mineCard(f.properties));
}

function mineCard(p) {
  const li = document.createElement("li");
  li.className = "card-item";
  li.dataset.pinId = p.id;
  const body = document.createElement("div");
  const title = document.createElement("p");
  title.className = "card-theme";
  const th = theme(p.theme);
  title.textContent = `${th ? themeLabel(th) : p.theme} · ${t(`kind.${p.kind}`)}`;
  const text = document.createElement("p");
  text.className = "quote";
  text.textContent = p.text; // user text: always textContent
  const status = document.createElement("p");
  status.className = `status status-${p.status}`;
  status.append(statusMark(p.status, t(`status.${p.status}`)));
  const when = document.createElement("p");
  when.className = "hint";
  const created = p.created_at ? new Date(p.created_at).toLocaleDateString(lang) : "";
  const commune = p.territories && p.territories.commune ? p.territories.commune.name : "";
  when.textContent = namesLine([created, commune, peopleCount(p.support_count || 0)]);
  body.append(title, text, status, when);
  if (p.status_reason) {
    const reason = document.createElement("p");
    reason.className = "hint status-reason";
    // The screening's reasons by their code, in the page's language; a moderator's note as written.
    reason.textContent = p.status_reason_code ? t(`reason.${p.status_reason_code}`) : p.status_reason;
    body.append(reason);
  }
  li.append(picto(p.theme), body);
  return li;
}
