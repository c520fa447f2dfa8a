"""Linking needs to help: local actors near a pin, Grand Paris responses for a cluster, coverage."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Distance, Transform
from django.contrib.gis.measure import D
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from carto.actor_places import Place, places_of
from carto.errors import Conflict
from carto.geo import API_SRID
from carto.models import Actor, Cluster, ClusterTerritory, Pin, Response, ResponseLink
from carto.services.audit import audit
from carto.services.cluster_curation import require_curator

ACTORS_RADIUS_M = 3000
ACTORS_LIMIT = 5
# Every place offering a service of the pin's theme this close is listed, beyond ACTORS_LIMIT if need be:
# a walk away, it is the most usable help, and a limit filled by better-matching far places once hid it.
ACTORS_ALWAYS_M = 500
# Distances are computed from the blurred public location and shown in 50 m steps: no triangulation.
DISTANCE_STEP_M = 50
# Area codes that mean "everywhere in the Métropole" (an empty list means national).
EVERYWHERE = {"", "MGP"}


@dataclass(frozen=True)
class NearbyActor:
    """One place that can help: its records merged (carto.actor_places), the shown one first."""

    place: Place
    distance_m: int  # rounded to DISTANCE_STEP_M
    exact_m: float
    match: tuple[bool, int]  # how well its services answer the theme, best first (_match)

    @property
    def actor(self) -> Actor:
        return self.place.shown


def actors_near_pin(pin: Pin) -> list[NearbyActor]:
    """Who can help near a pin: every place within 500 m offering a service of its theme, then places up
    to 3 km until there are 5 (those offering the theme's first service first), and the nearest place that
    offers the first service if none of the others does; one entry per place.
    Listed nearest first (in the 50 m steps the card shows), the best match first at the same step."""
    services = list(pin.theme.services)
    if not services:
        return []
    records = (
        Actor.objects.located()
        .offering(services)
        .filter(location__dwithin=(pin.public_location, D(m=ACTORS_RADIUS_M)))
        .annotate(distance=Distance("location", pin.public_location))
        .defer("schema_extra")
        .order_by("distance", "id")
    )
    nearby = []
    for place in places_of(records):
        exact = min(r.distance.m for r in place.records)
        rounded = int(round(exact / DISTANCE_STEP_M) * DISTANCE_STEP_M)
        nearby.append(NearbyActor(place, rounded, exact, match=_match(place.services, services)))
    near = [n for n in nearby if n.exact_m <= ACTORS_ALWAYS_M]
    # Past a walk, the list is filled by the places that answer the theme best (the nearest among equals):
    # a printing need keeps the paperwork helpers a kilometre away over five nearer computer classes.
    further = sorted((n for n in nearby if n.exact_m > ACTORS_ALWAYS_M), key=lambda n: (n.match, n.exact_m))
    # And when no place of the walk offers the theme's first service (five computer classes round a printing
    # need), the nearest one that does is added all the same: the card must name who answers the need.
    best_missing = bool(further) and not further[0].match[0] and all(n.match[0] for n in near)
    room = max(1 if best_missing else 0, ACTORS_LIMIT - len(near))
    return sorted(near + further[:room], key=_nearest_first)


def _match(offered: list[str], wanted: list[str]) -> tuple[bool, int]:
    """How well a place's services answer a theme, best first when sorted: the theme lists its services
    most relevant first (fixtures/themes.json), so offering the first one counts most, then how many."""
    return (wanted[0] not in offered, -len(set(offered) & set(wanted)))


def _nearest_first(item: NearbyActor) -> tuple:
    # A resident walks to the nearest help: distance leads; the match only breaks ties within a step.
    return (item.distance_m, item.match, item.exact_m, item.actor.pk)


def linked(queryset: QuerySet) -> QuerySet:
    """Annotate clusters with `covered`: at least one confirmed response."""
    return queryset.annotate(covered=Exists(ResponseLink.objects.filter(cluster=OuterRef("pk"))))


def responses_suggested(cluster: Cluster, *, today: datetime.date | None = None) -> list[Response]:
    """Active responses sharing a theme with the cluster whose area includes it, not yet confirmed."""
    today = today or datetime.date.today()
    codes = list(
        ClusterTerritory.objects.filter(cluster=cluster, territory__kind__in=["commune", "ept"]).values_list(
            "territory__code", flat=True
        )
    )
    area = Q(area_codes=[]) | Q(area_codes__overlap=sorted(EVERYWHERE)) | Q(area_codes__overlap=codes)
    active = (Q(active_from__isnull=True) | Q(active_from__lte=today)) & (
        Q(active_until__isnull=True) | Q(active_until__gte=today)
    )
    return list(
        Response.objects.filter(area, active, themes__overlap=list(cluster.themes))
        .exclude(cluster_links__cluster=cluster)
        .order_by("name", "id")
    )


@transaction.atomic(durable=True)
def response_link(*, cluster: Cluster, response: Response, actor, reason: str = "") -> ResponseLink:
    """Confirm that a response answers a cluster's need (curators only, once per pair)."""
    require_curator(actor)
    if ResponseLink.objects.filter(cluster=cluster, response=response).exists():
        raise Conflict("already_linked", "This response is already linked to this cluster.")
    try:
        with transaction.atomic():
            link = ResponseLink.objects.create(cluster=cluster, response=response, linked_by=actor)
    except IntegrityError as exc:  # a concurrent identical link won the race
        raise Conflict("already_linked", "This response is already linked to this cluster.") from exc
    audit(actor=actor, action="response_link", obj=cluster, reason=reason, data={"response": response.slug})
    return link


@dataclass(frozen=True)
class Coverage:
    gaps: list[Cluster]
    responses: list[tuple[Response, list[Cluster]]]


# A need counts as shared once this many visible pins from this many distinct devices (or accounts) say it:
# one resident posting twice is not two voices.
GAP_MIN_PINS = 2
GAP_MIN_DEVICES = 2


def coverage(*, min_territories: int = 2, limit: int = 200) -> Coverage:
    """Clusters spanning ≥ min_territories communes with no linked response, ranked by voices (visible
    pins plus their supports), and what each response covers. Counts are read from the visible pins."""
    visible = Q(pin_links__pin__status__in=Pin.VISIBLE_STATUSES)
    # Who voiced a pin: its device, else its account, else the pin itself (fixtures, imports).
    voice = Case(
        When(~Q(pin_links__pin__device_hash=""), then=F("pin_links__pin__device_hash")),
        When(
            pin_links__pin__author_id__isnull=False,
            then=Concat(Value("u"), Cast("pin_links__pin__author_id", CharField())),
        ),
        default=Concat(Value("p"), Cast("pin_links__pin_id", CharField())),
        output_field=CharField(),
    )
    gaps = list(
        linked(Cluster.objects.filter(territory_count__gte=min_territories))
        .filter(covered=False)
        .annotate(
            visible_pins=Count("pin_links", filter=visible),
            visible_supports=Coalesce(Sum("pin_links__pin__support_count", filter=visible), 0),
            devices=Count(voice, filter=visible, distinct=True),
        )
        .filter(visible_pins__gte=GAP_MIN_PINS, devices__gte=GAP_MIN_DEVICES)
        .annotate(voices=F("visible_pins") + F("visible_supports"))
        .order_by("-voices", "-territory_count", "id")[:limit]
    )
    for gap in gaps:  # what the summary shows: the visible pins and their supports
        gap.pin_count, gap.support_count = gap.visible_pins, gap.visible_supports
    links = ResponseLink.objects.select_related("response", "cluster").order_by(
        "response__name", "cluster_id"
    )
    covered: dict[int, tuple[Response, list[Cluster]]] = {}
    for response in Response.objects.order_by("name", "id"):
        covered[response.pk] = (response, [])
    for link in links:
        covered[link.response_id][1].append(link.cluster)
    return Coverage(gaps=gaps, responses=list(covered.values()))


def gap_points(cluster_ids: list[int], *, limit: int) -> list[tuple[int, int, float, float]]:
    """(pin id, cluster id, lon, lat) of the visible pins of these clusters at their public (blurred)
    location, the most supported first: where the uncovered needs are, for the coverage map."""
    rows = (
        Pin.objects.visible()
        .filter(cluster_link__cluster_id__in=cluster_ids)
        .annotate(point=Transform("public_location", API_SRID))
        .order_by("-support_count", "id")
        .values_list("id", "cluster_link__cluster_id", "point")[:limit]
    )
    return [(pin_id, cluster_id, point.x, point.y) for pin_id, cluster_id, point in rows]


def actors_near_cluster(cluster: Cluster, *, pins: int = 3) -> list[NearbyActor]:
    """Places near a cluster's most supported pins (nearest first, each place once, 5 at most)."""
    best: dict[int, NearbyActor] = {}
    members = (
        Pin.objects.visible()
        .filter(cluster_link__cluster=cluster)
        .select_related("theme")
        .order_by("-support_count", "id")[:pins]
    )
    for pin in members:
        for item in actors_near_pin(pin):
            if item.actor.pk not in best or item.distance_m < best[item.actor.pk].distance_m:
                best[item.actor.pk] = item
    return sorted(best.values(), key=lambda i: (i.distance_m, i.actor.pk))[:ACTORS_LIMIT]
