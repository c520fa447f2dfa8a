"""The state of needs of one territory (an EPT, a QPV, any level): its top needs and themes, their trend,
their supports, and how many are covered by a Grand Paris response.

A need is a cluster (carto.services.clustering) with visible pins in the territory during the period; it is
covered when a curator linked a response to it (linking.linked, the rule /coverage/ uses). Counts are the
territory's visible pins (not the cluster's Métropole-wide ones), suppressed below 5 as every statistic.
The trend compares the period with the previous one of the same length (default: the last 90 days).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from carto.errors import DomainError
from carto.models import Cluster, Pin, Response, ResponseLink, Territory
from carto.pin_filter import PinFilter
from carto.services.linking import linked
from carto.stats.comparisons import LEVEL_FIELDS, per_1000, suppress_small, trend_of

DEFAULT_DAYS = 90
TOP_NEEDS = 8
# Official codes are short ASCII (INSEE, T1…T12, QN…, a SIREN): anything else names no territory.
TERRITORY_CODE = re.compile(r"[0-9A-Za-z]{1,16}")


@dataclass(frozen=True)
class Need:
    """One cluster's figures in the territory (already suppressed) and the responses linked to it."""

    figures: dict
    responses: list[Response]


@dataclass(frozen=True)
class NeedsBoard:
    territory: Territory
    since: dt.datetime
    until: dt.datetime | None
    totals: dict
    themes: list[dict]
    needs: list[Need]
    coverage: dict


def territory_or_404(code: str) -> Territory:
    """The territory of this official code (any level), or a 404 in the API's error shape."""
    found = Territory.objects.filter(code=code).first() if TERRITORY_CODE.fullmatch(code) else None
    if found is None:
        raise DomainError(
            "unknown_territory", "no territory has this code", fields={"code": [code[:40]]}, status=404
        )
    return found


def _pin_filters(prefix: str, territory: Territory, filters: PinFilter, start: dt.datetime) -> Q:
    """Visible pins of the territory from the previous period's start, as a Q on `prefix` + pin field."""
    q = Q(**{f"{prefix}status__in": Pin.VISIBLE_STATUSES}) & replace(filters, since=start).q(prefix)
    if territory.kind in LEVEL_FIELDS:  # the Métropole holds every pin
        q &= Q(**{f"{prefix}{LEVEL_FIELDS[territory.kind]}": territory.pk})
    return q


def _periods(prefix: str, since: dt.datetime) -> tuple[Q, Q]:
    """The period's pins and the previous period's (the base filter starts them at its start)."""
    return Q(**{f"{prefix}created_at__gte": since}), Q(**{f"{prefix}created_at__lt": since})


def territory_needs(*, code: str, filters: PinFilter, limit: int = TOP_NEEDS) -> NeedsBoard:
    """The state of needs of a territory over the period (default: the last DEFAULT_DAYS days)."""
    territory = territory_or_404(code)
    since = filters.since or (filters.until or timezone.now()) - dt.timedelta(days=DEFAULT_DAYS)
    start = since - ((filters.until or timezone.now()) - since)
    current, previous = _periods("", since)

    covered_pin = Exists(ResponseLink.objects.filter(cluster_id=OuterRef("cluster_link__cluster_id")))
    theme_rows = (
        Pin.objects.filter(_pin_filters("", territory, filters, start))
        .values("theme__slug")
        .annotate(
            pins=Count("id", filter=current),
            supports=Coalesce(Sum("support_count", filter=current), 0),
            previous=Count("id", filter=previous),
            covered=Count("id", filter=current & Q(covered_pin)),
        )
        .order_by("-pins", "theme__slug")
    )
    themes, totals = [], {"pins": 0, "supports": 0, "previous": 0, "covered": 0}
    for row in theme_rows:
        for key in totals:
            totals[key] += row[key]
        if row["pins"]:
            themes.append(
                {
                    "slug": row["theme__slug"],
                    "pins": suppress_small(row["pins"]),
                    "supports": suppress_small(row["supports"]),
                    "per_1000": per_1000(row["pins"], territory.population),
                    "trend": trend_of(row["pins"], row["previous"]),
                    "covered_pins": suppress_small(row["covered"]),
                }
            )

    current, previous = _periods("pin_links__pin__", since)
    clusters = (
        linked(Cluster.objects.filter(_pin_filters("pin_links__pin__", territory, filters, start)))
        .annotate(
            here=Count("pin_links", filter=current),
            here_supports=Coalesce(Sum("pin_links__pin__support_count", filter=current), 0),
            here_previous=Count("pin_links", filter=previous),
        )
        .filter(here__gt=0)
    )
    counts = {"needs": clusters.count(), "covered": clusters.filter(covered=True).count()}
    top = list(
        clusters.annotate(voices=F("here") + F("here_supports")).order_by("-voices", "-here", "id")[:limit]
    )
    responses: dict[int, list[Response]] = {c.pk: [] for c in top}
    links = ResponseLink.objects.filter(cluster_id__in=list(responses)).select_related("response")
    for link in links.order_by("response__name", "response_id"):
        responses[link.cluster_id].append(link.response)
    needs = [
        Need(
            figures={
                "id": c.pk,
                "label": c.label,
                "themes": list(c.themes),
                "territory_count": c.territory_count,
                "pins": suppress_small(c.here),
                "supports": suppress_small(c.here_supports),
                "trend": trend_of(c.here, c.here_previous),
                "covered": c.covered,
            },
            responses=responses[c.pk],
        )
        for c in top
    ]
    return NeedsBoard(
        territory=territory,
        since=since,
        until=filters.until,
        totals={
            "pins": suppress_small(totals["pins"]),
            "supports": suppress_small(totals["supports"]),
            "per_1000": per_1000(totals["pins"], territory.population),
            "trend": trend_of(totals["pins"], totals["previous"]),
            "covered_pins": suppress_small(totals["covered"]),
        },
        themes=themes,
        needs=needs,
        coverage={"needs": counts["needs"], "covered": counts["covered"]},
    )
