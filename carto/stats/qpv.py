"""A QPV against the rest of its commune: pins per 1,000 inhabitants inside and outside the quartier.

"The rest of its commune" is every commune the QPV touches (ANCT list: 26 QPV of the Métropole cross a
commune limit) minus the QPV itself: its pins are the visible pins placed in those communes but not in this
QPV (pins of other QPV count in the rest), its population the communes' populations minus the QPV's (INSEE
publishes one population per QPV, not per commune part). A pin on the overlap of two QPV is placed in the
lower code (carto_place), so a QPV of the higher code may count slightly fewer pins than it has residents'.
"""

from __future__ import annotations

import re

from carto.errors import DomainError
from carto.models import Territory
from carto.pin_filter import PinFilter
from carto.stats.comparisons import (
    COUNTS_SQL,
    PINS_WHERE_SQL,
    REQUEST_SQL,
    Counted,
    fetch_all,
    request_params,
    stats_row,
)

# Official QPV codes: QN, 3 digits of department, 3 characters (QN07511M). Anything else is not one.
QPV_CODE = re.compile(r"QN[0-9]{3}[0-9A-Z]{3}")

# One statement: the pins of the QPV and of its communes, split by side and theme, current and previous
# period (the pin indexes on qpv_id and commune_id, OR-ed).
_SIDES_SQL = f"""
SELECT coalesce(p.qpv_id = %(qpv)s, false) AS inside, th.slug, {COUNTS_SQL}
FROM {REQUEST_SQL}
CROSS JOIN carto_pin p
JOIN carto_theme th ON th.id = p.theme_id
WHERE {PINS_WHERE_SQL}
  AND (p.qpv_id = %(qpv)s OR p.commune_id = ANY(%(communes)s::int[]))
GROUP BY 1, 2
"""  # noqa: S608 (constant fragments spliced; every value is bound)


def qpv_or_404(code: str) -> Territory:
    """The QPV of this official code, or a 404 in the API's error shape."""
    qpv = (
        Territory.objects.filter(kind=Territory.Kind.QPV, code=code).first()
        if QPV_CODE.fullmatch(code)
        else None
    )
    if qpv is None:
        raise DomainError("unknown_qpv", "no QPV has this code", fields={"code": [code[:40]]}, status=404)
    return qpv


def qpv_versus_commune(*, code: str, filters: PinFilter) -> dict:
    """The QPV's statistics beside those of the rest of its commune(s), and the ratio of their rates."""
    qpv = qpv_or_404(code)
    communes = list(qpv.communes.order_by("code"))
    known = all(c.population for c in communes) and qpv.population
    rest_population = sum(c.population or 0 for c in communes) - (qpv.population or 0) if known else None
    inside = Counted(qpv.code, qpv.name, qpv.kind, qpv.population)
    rest = Counted("", "", "rest_of_commune", rest_population or None)  # named by its communes below
    params = {**request_params(filters), "qpv": qpv.pk, "communes": [c.pk for c in communes]}
    for is_inside, slug, pins, supports, previous in fetch_all(_SIDES_SQL, params):
        side = inside if is_inside else rest
        side.previous += previous
        if pins:
            side.by_theme[slug] = (pins, supports)
    trend = bool(filters.since)
    qpv_row, rest_row = stats_row(inside, trend=trend), stats_row(rest, trend=trend)
    del rest_row["code"], rest_row["name"], rest_row["kind"]
    rest_row["communes"] = [{"code": c.code, "name": c.name, "population": c.population} for c in communes]
    ratio = None
    if qpv_row["per_1000"] is not None and rest_row["per_1000"]:
        ratio = round(qpv_row["per_1000"] / rest_row["per_1000"], 2)
    return {"qpv": qpv_row, "rest_of_commune": rest_row, "ratio": ratio}
