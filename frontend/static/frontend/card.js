// A pin's card when it is tapped on the map: pictogram, text (always as text), territories, status, "me too".
import { getPin, support } from "./api.js";
import { t, themeLabel } from "./i18n.js";
import { remember } from "./mypins.js";
import { paintPicto, theme } from "./themes.js";

export function setupCard({ map, section, toast }) {
  const $ = (sel) => section.querySelector(sel);
  const button = $("#card-support");
  let current = null;

  async function open(id, fallback) {
    let props = fallback || null;
    try {
      const res = await getPin(id);
      if (res.status === 200) props = res.body.properties;
    } catch {
      // offline: show what the map already has
    }
    if (!props) return;
    current = props;
    const th = theme(props.theme);
    paintPicto($("#card-picto"), props.theme);
    $("#card-title").textContent = `${th ? themeLabel(th) : props.theme} · ${t(`kind.${props.kind}`)}`;
    $("#card-text").textContent = props.text; // user text: never innerHTML
    const terr = typeof props.territories === "object" && props.territories ? props.territories : {};
    $("#card-place").textContent = ["qpv", "arrondissement", "commune", "ept"]
      .map((k) => terr[k] && terr[k].name).filter(Boolean).join(" · ");
    $("#card-status").textContent = `${t(`status.${props.status}`)} · ${t("card.supports", { n: props.support_count || 0 })}`;
    button.textContent = t("card.metoo");
    button.disabled = false;
    section.hidden = false;
    $("#card-title").focus();
  }

  button.addEventListener("click", async () => {
    if (!current) return;
    button.disabled = true;
    try {
      const res = await support(current.id);
      if (res.status >= 400) throw new Error(String(res.status));
      current.support_count = res.body.support_count;
      remember(current.id);
      $("#card-status").textContent = `${t(`status.${current.status}`)} · ${t("card.supports", { n: current.support_count })}`;
      button.textContent = t("card.supported");
    } catch {
      button.disabled = false;
      toast(t("errors.network"));
    }
  });
  section.addEventListener("click", (e) => {
    if (e.target.closest("[data-action=close]")) section.hidden = true;
  });

  map.on("click", "pins", (e) => {
    const f = e.features[0];
    open(f.properties.id, f.properties);
  });
  map.on("click", "pin-clusters", async (e) => {
    const f = e.features[0];
    const zoom = await map.getSource("pins").getClusterExpansionZoom(f.properties.cluster_id);
    map.easeTo({ center: f.geometry.coordinates, zoom });
  });
  for (const layer of ["pins", "pin-clusters"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  return { open };
}
