// Themes from /api/themes/ (cached by the service worker): lookups and the pictogram element.
let bySlug = new Map();
export let themes = [];

export function setThemes(list) {
  themes = list;
  bySlug = new Map(list.map((t) => [t.slug, t]));
}
export const theme = (slug) => bySlug.get(slug);
export const leaves = () => themes.filter((t) => t.parent);
export const groups = () => themes.filter((t) => !t.parent);

// Pictograms are drawn with stroke="currentColor": used as a CSS mask they take the theme's colour.
export function paintPicto(el, slug) {
  const t = bySlug.get(slug);
  el.style.setProperty("--picto", t ? `url("${t.pictogram_url}")` : "none");
  el.style.setProperty("--colour", t ? t.color : "#555");
}

export function picto(slug, extra = "") {
  const el = document.createElement("span");
  el.className = `picto ${extra}`.trim();
  el.setAttribute("aria-hidden", "true");
  paintPicto(el, slug);
  return el;
}
