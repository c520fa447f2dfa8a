"""A quartier (QPV) as a resident sees it: what is said there, and where else in the Métropole it is said.

The top needs of the QPV are the clusters of its visible pins, ranked by their voices here (pins plus "moi
aussi"); each comes with its spread: how many *other* QPV and how many *other* communes (communes the QPV does
not touch) hold a visible pin of the same cluster. This is how a resident sees that their need is shared
across the Métropole. Counts of pins and supports are suppressed below 5 as every statistic; the spread counts
territories, each of them already shown on the public map by a visible pin, so it is given as it is. Every
visible pin counts, whatever its age: the sheet speaks of the pins the map draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Area, Intersection
from django.contrib.gis.measure import Area as SquareMetres

from carto.models import Pin, Territory
from carto.stats.comparisons import fetch_all, suppress_small
from carto.stats.qpv import qpv_or_404

TOP_NEEDS = 5
# A Paris QPV is filed under the commune of Paris (ANCT list): the arrondissements it lies in name it better
# ("Paris 19e · 20e"). One that holds less than this share of the QPV's area is a border sliver (the outlines
# are generalised to ~10 m), not one it lies in.
ARRONDISSEMENT_MIN_SHARE = 0.05

# One statement: the QPV's visible pins grouped by cluster (the pin index on qpv_id), its top `limit`, then
# each one's spread from the clusters' territory rows (carto_clusterterritory: a row per territory holding a
# visible pin of the cluster, kept by the clustering as pins join, leave, hide or go): its cost grows with the
# number of places a need is voiced, not with its pins: the whole sheet of the largest QPV (QN09328M) takes
# 12 ms at 100 k pins and 72 ms at 1 M on the bench databases (~28 giant clusters of 3,700 to 35,000 pins),
# where reading every pin of each top cluster took 137 ms and 1.8 s for this statement alone. The theme shown is the most frequent among the pins here
# (mode() takes the first slug on a tie).
_NEEDS_SQL = """
WITH here AS (
  SELECT pc.cluster_id, count(*) AS pins, coalesce(sum(p.support_count), 0) AS supports,
         mode() WITHIN GROUP (ORDER BY th.slug) AS theme
  FROM carto_pin p
  JOIN carto_pincluster pc ON pc.pin_id = p.id
  JOIN carto_theme th ON th.id = p.theme_id
  WHERE p.qpv_id = %(qpv)s AND p.status = ANY(%(visible)s)
  GROUP BY pc.cluster_id
  ORDER BY count(*) + coalesce(sum(p.support_count), 0) DESC, count(*) DESC, pc.cluster_id
  LIMIT %(limit)s
)
SELECT h.cluster_id, c.label, h.theme, h.pins, h.supports,
       count(*) FILTER (WHERE t.kind = 'qpv' AND t.id <> %(qpv)s) AS other_qpv,
       count(*) FILTER (WHERE t.kind = 'commune' AND t.id <> ALL(%(communes)s::int[])) AS other_communes
FROM here h
JOIN carto_cluster c ON c.id = h.cluster_id
LEFT JOIN carto_clusterterritory ct ON ct.cluster_id = h.cluster_id AND ct.pin_count > 0
LEFT JOIN carto_territory t ON t.id = ct.territory_id
GROUP BY h.cluster_id, c.label, h.theme, h.pins, h.supports
ORDER BY h.pins + h.supports DESC, h.pins DESC, h.cluster_id
"""

_TOTALS_SQL = """
SELECT count(*), coalesce(sum(p.support_count), 0)
FROM carto_pin p
WHERE p.qpv_id = %(qpv)s AND p.status = ANY(%(visible)s)
"""


@dataclass(frozen=True)
class Quartier:
    qpv: Territory
    communes: list[Territory]
    arrondissements: list[Territory]
    pins: int | str
    supports: int | str
    needs: list[dict]


def quartier_needs(*, code: str, limit: int = TOP_NEEDS) -> Quartier:
    """The QPV's visible pins and supports, and its top needs with how many other QPV and communes voice them."""
    qpv = qpv_or_404(code)
    communes = list(qpv.communes.order_by("name", "code"))
    arrondissements = list(
        Territory.objects.filter(kind=Territory.Kind.ARRONDISSEMENT, geometry__intersects=qpv.geometry)
        .annotate(shared=Area(Intersection("geometry", qpv.geometry)))
        .filter(shared__gte=SquareMetres(sq_m=qpv.geometry.area * ARRONDISSEMENT_MIN_SHARE))
        .order_by("code")
    )
    params = {
        "qpv": qpv.pk,
        "visible": list(Pin.VISIBLE_STATUSES),
        "communes": [c.pk for c in communes],
        "limit": limit,
    }
    [(pins, supports)] = fetch_all(_TOTALS_SQL, params)
    needs = [
        {
            "id": cluster_id,
            "label": label,
            "theme": theme,
            "pins": suppress_small(here),
            "supports": suppress_small(here_supports),
            "elsewhere": {"qpv": other_qpv, "communes": other_communes},
        }
        for cluster_id, label, theme, here, here_supports, other_qpv, other_communes in fetch_all(
            _NEEDS_SQL, params
        )
    ]
    return Quartier(
        qpv=qpv,
        communes=communes,
        arrondissements=arrondissements,
        pins=suppress_small(pins),
        supports=suppress_small(supports),
        needs=needs,
    )
