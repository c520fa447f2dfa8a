// Curators teach the clustering: "same need" / "not the same need" on one visible pin and a cluster, POSTed to
// /api/clusters/{id}/decisions/ (the pin moves into the cluster, or out into a cluster of its own; the answer is
// the cluster's detail). The same two buttons on /coverage/ (a cluster's pins) and /moderation/ (the pins that
// joined their cluster with the weakest similarity). Which users are curators: the page's view says
// (data-curator, from carto's is_curator); the API refuses everyone else with 403.
import { request } from "./api.js";
import { t } from "./i18n.js";

export const decide = (clusterId, pinId, same) =>
  request(`/api/clusters/${encodeURIComponent(clusterId)}/decisions/`, { method: "POST", json: { pin: pinId, same } });

// Two buttons (pictogram + short label; the pin's text as their description). `onDecided(cluster, same)` gets
// the 201 body; `onFailed(res)` a non-201 answer or null when the network failed, with the buttons usable again.
export function curateButtons({ clusterId, pinId, describedBy, onDecided, onFailed }) {
  const group = document.createElement("div");
  group.className = "curate";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", t("curate.question"));
  for (const same of [true, false]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = same ? "same" : "apart";
    button.dataset.same = String(same);
    if (describedBy) button.setAttribute("aria-describedby", describedBy);
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.textContent = t(same ? "curate.same" : "curate.apart");
    button.append(icon, label);
    button.addEventListener("click", async () => {
      const buttons = group.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; }); // one tap, one decision
      let res = null;
      try {
        res = await decide(clusterId, pinId, same);
      } catch {
        res = null;
      }
      if (res && res.status === 201 && res.body) return onDecided(res.body, same);
      buttons.forEach((b) => { b.disabled = false; });
      onFailed(res);
    });
    group.append(button);
  }
  return group;
}
