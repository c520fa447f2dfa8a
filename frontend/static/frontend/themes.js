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

const SVG = "http://www.w3.org/2000/svg";

// The page holds every pictogram once, as <symbol id="picto-<file name>"> in an inline sprite
// (frontend/pictograms.py): a pictogram is a <use> of it, drawn at once with no request of its own. The
// drawings use stroke="currentColor", so the theme's colour is the element's CSS colour.
export function paintPicto(el, slug) {
  const t = bySlug.get(slug);
  el.style.setProperty("--colour", t ? t.color : "#555");
  if (!t) return el.replaceChildren();
  // "…/pictograms/logement.svg", or a cache-busted "logement.3f2a1c.svg": the symbol is named by the stem.
  const name = t.pictogram_url.split("/").pop().split(".")[0];
  const svg = document.createElementNS(SVG, "svg");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `#picto-${name}`);
  svg.append(use);
  el.replaceChildren(svg);
}

export function picto(slug, extra = "") {
  const el = document.createElement("span");
  el.className = `picto ${extra}`.trim();
  el.setAttribute("aria-hidden", "true");
  paintPicto(el, slug);
  return el;
}
