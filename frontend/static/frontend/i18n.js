// UI strings from one small JSON catalogue per language; Arabic switches the whole page to right-to-left.
export const LANGUAGES = ["fr", "en", "ar", "zh"];
const RTL = new Set(["ar"]);
const LANG_KEY = "carto.lang";
const EASY_KEY = "carto.easy";

let strings = {};
export let lang = "fr";

export function detectLanguage() {
  const saved = localStorage.getItem(LANG_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  for (const tag of navigator.languages || [navigator.language]) {
    const base = (tag || "").slice(0, 2).toLowerCase();
    if (LANGUAGES.includes(base)) return base;
  }
  return "fr";
}

export const easy = () => document.documentElement.classList.contains("easy");

export function setEasy(on) {
  document.documentElement.classList.toggle("easy", on);
  localStorage.setItem(EASY_KEY, on ? "1" : "");
}
export const savedEasy = () => localStorage.getItem(EASY_KEY) === "1";

// In easy-read mode a key "x.easy" (a shorter, plainer sentence) replaces "x" when the catalogue has one.
export function t(key, vars = {}) {
  let text = (easy() && strings[`${key}.easy`]) || strings[key] || key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

export async function setLanguage(code) {
  lang = LANGUAGES.includes(code) ? code : "fr";
  const response = await fetch(`/static/frontend/i18n/${lang}.json`);
  strings = await response.json();
  localStorage.setItem(LANG_KEY, lang);
  // The server writes the page's first words in this language next time (frontend/words.py, Django's cookie).
  document.cookie = `django_language=${lang === "zh" ? "zh-hans" : lang}; path=/; max-age=31536000; samesite=lax`;
  const html = document.documentElement;
  html.lang = lang;
  html.dir = RTL.has(lang) ? "rtl" : "ltr";
  translate(document);
}

// data-i18n → text, data-i18n-label → aria-label, data-i18n-placeholder → placeholder; the whole document or a
// part of it (a copy of a <template>, whose content querySelectorAll on the document does not reach).
export function translate(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => el.setAttribute("aria-label", t(el.dataset.i18nLabel)));
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  if (root === document) document.title = t("app.title");
}

// A theme's label (or, in easy-read mode, its easy sentence) in the current language.
export const themeLabel = (theme) => theme.labels[lang] || theme.labels.fr;
export const themeEasy = (theme) => (theme.easy && (theme.easy[lang] || theme.easy.fr)) || "";

// A count in words in the page's language, by the plural forms CLDR gives it (Intl.PluralRules): the catalogue
// holds `${key}.one`, `${key}.other` in French and English, zero…many as well in Arabic, `.other` alone in
// Chinese. `vars.n` may carry the count already formatted ("1 234").
export function plural(key, count, vars = {}) {
  const form = new Intl.PluralRules(lang).select(count);
  const name = strings[`${key}.${form}`] !== undefined ? `${key}.${form}` : `${key}.other`;
  return t(name, { n: count, ...vars });
}

// "3 personnes": how many people support a pin, or "" for none (a card says nothing rather than "0 personne").
export const peopleCount = (n) => (n > 0 ? plural("count.people", n) : "");

// "N people in M communes say the same" for a cluster {pin_count, support_count, territory_count}: its pins and
// their supports are people; `key` names the sentence, `${key}_one` its form for one commune when it has one.
export function clusterSentence(cluster, key = "card.cluster") {
  const people = (cluster.pin_count || 0) + (cluster.support_count || 0);
  const communes = cluster.territory_count || 0;
  const sentence = communes <= 1 && strings[`${key}_one`] !== undefined ? `${key}_one` : key;
  return t(sentence, { people: plural("count.people", people), communes: plural("count.communes", communes) });
}

// Place names joined with " · ", each once: Paris is a commune and an EPT of the same name, and the same word
// twice ("Paris · Paris") reads as a mistake.
export function namesLine(names) {
  const seen = new Set();
  return names.filter((name) => {
    const key = (name || "").trim().toLocaleLowerCase();
    if (!key || seen.has(key)) return false;
    seen.add(key);
    return true;
  }).join(" · ");
}
