"""Clusters of similar needs: list, detail, curator actions; and the actors who can help near a pin."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response as APIResponse
from rest_framework.views import APIView

from api.params import parse_int, valid
from api.serializers.clusters import (
    DecisionInput,
    LinkInput,
    MergeInput,
    RenameInput,
    SplitInput,
    actor_nearby,
    cluster_summary,
    pin_public,
    response_public,
    territory_count,
)
from carto.errors import InvalidInput
from carto.hours import LANGUAGES as HOURS_LANGUAGES
from carto.models import Cluster, ClusterTerritory, Pin, Response, Territory, Theme
from carto.services.cluster_curation import cluster_decide, cluster_merge, cluster_rename, cluster_split
from carto.services.linking import (
    actors_near_cluster,
    actors_near_pin,
    linked,
    response_link,
    responses_suggested,
)

LIST_LIMIT = 100
LIST_MAX = 500
DETAIL_PINS = 200


def cluster_detail(cluster_id: int) -> dict:
    cluster = get_object_or_404(linked(Cluster.objects.all()), pk=cluster_id)
    pins = (
        Pin.objects.visible()
        .filter(cluster_link__cluster=cluster)
        .select_related("theme")
        .order_by("-support_count", "id")[:DETAIL_PINS]
    )
    territories = ClusterTerritory.objects.filter(cluster=cluster).select_related("territory")
    links = cluster.response_links.select_related("response").order_by("id")
    return {
        **cluster_summary(cluster),
        "pins": [pin_public(p) for p in pins],
        "territories": [
            territory_count(t)
            for t in territories.order_by("territory__kind", "-pin_count", "territory__code")
        ],
        "actors": [actor_nearby(a) for a in actors_near_cluster(cluster)],
        "responses": {
            "linked": [response_public(link.response) for link in links],
            "suggested": [response_public(r) for r in responses_suggested(cluster)],
        },
    }


class ClusterListView(APIView):
    """Clusters ordered by territories spanned, then pins; filters theme, territory, min_territories, covered."""

    @extend_schema(
        parameters=[
            OpenApiParameter("theme", str, description="theme or theme group slug"),
            OpenApiParameter("territory", str, description="official code (INSEE, EPT, QPV)"),
            OpenApiParameter("min_territories", int, description="at least this many communes"),
            OpenApiParameter("covered", bool, description="with (true) or without (false) a linked response"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=OpenApiTypes.OBJECT,
        operation_id="clusters_list",
    )
    def get(self, request):
        params = request.query_params
        clusters = linked(Cluster.objects.filter(pin_count__gt=0))  # emptied, kept for a linked response
        if slug := params.get("theme"):
            theme = Theme.objects.filter(slug=slug).first()
            if theme is None:
                raise InvalidInput(
                    "unknown_theme", "This theme does not exist.", fields={"theme": [slug[:60]]}
                )
            slugs = [theme.slug, *theme.children.values_list("slug", flat=True)]
            clusters = clusters.filter(themes__overlap=slugs)
        if code := params.get("territory"):
            territory = Territory.objects.filter(code=code).first()
            if territory is None:
                raise InvalidInput(
                    "unknown_territory", "No territory has this code.", fields={"territory": [code[:60]]}
                )
            if territory.kind != Territory.Kind.METROPOLE:
                clusters = clusters.filter(territories__territory=territory)
        if (minimum := parse_int(params.get("min_territories"), "min_territories", default=0)) > 0:
            clusters = clusters.filter(territory_count__gte=minimum)
        if (covered := params.get("covered")) is not None:
            if covered not in ("true", "false"):
                raise InvalidInput(
                    "invalid_parameter", "covered must be true or false", fields={"covered": [covered[:60]]}
                )
            clusters = clusters.filter(covered=covered == "true")
        limit = parse_int(params.get("limit"), "limit", default=LIST_LIMIT, maximum=LIST_MAX)
        offset = parse_int(params.get("offset"), "offset", default=0)
        total = clusters.count()
        page = clusters.order_by("-territory_count", "-pin_count", "id")[offset : offset + limit]
        return APIResponse({"count": total, "results": [cluster_summary(c) for c in page]})


class ClusterDetailView(APIView):
    """One cluster with its visible pins, territories, actors and responses; PATCH renames it."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        return APIResponse(cluster_detail(pk))

    @extend_schema(request=RenameInput, responses=OpenApiTypes.OBJECT)
    def patch(self, request, pk: int):
        cluster = get_object_or_404(Cluster, pk=pk)
        data = valid(RenameInput, request.data)
        cluster_rename(cluster=cluster, label=data["label"], actor=request.user, reason=data["reason"])
        return APIResponse(cluster_detail(pk))


class ClusterMergeView(APIView):
    """Merge another cluster into this one (curators)."""

    @extend_schema(request=MergeInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        cluster = get_object_or_404(Cluster, pk=pk)
        data = valid(MergeInput, request.data)
        other = get_object_or_404(Cluster, pk=data["other"])
        cluster_merge(cluster=cluster, other=other, actor=request.user, reason=data["reason"])
        return APIResponse(cluster_detail(pk))


class ClusterSplitView(APIView):
    """Take one pin out of this cluster into a new one (curators); returns the new cluster."""

    @extend_schema(request=SplitInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        cluster = get_object_or_404(Cluster, pk=pk)
        data = valid(SplitInput, request.data)
        # Visible pins only, as for decisions: a hidden or pending one is not a curator's to move, and its
        # id answered differently from a missing one (an oracle on held pins).
        pin = get_object_or_404(Pin.objects.visible(), pk=data["pin"])
        new = cluster_split(cluster=cluster, pin=pin, actor=request.user, reason=data["reason"])
        return APIResponse(cluster_detail(new.pk), status=201)


class ClusterDecisionView(APIView):
    """A curator says whether a visible pin is the same need as this cluster (it moves in or out)."""

    @extend_schema(request=DecisionInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        cluster = get_object_or_404(Cluster, pk=pk)
        data = valid(DecisionInput, request.data)
        pin = get_object_or_404(Pin.objects.visible(), pk=data["pin"])
        cluster_decide(cluster=cluster, pin=pin, same=data["same"], actor=request.user, reason=data["reason"])
        return APIResponse(cluster_detail(pk), status=201)


class ClusterResponsesView(APIView):
    """Confirm that a Grand Paris response answers this cluster (curators)."""

    @extend_schema(request=LinkInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        cluster = get_object_or_404(Cluster, pk=pk)
        data = valid(LinkInput, request.data)
        response = get_object_or_404(Response, slug=data["response"])
        response_link(cluster=cluster, response=response, actor=request.user, reason=data["reason"])
        return APIResponse(cluster_detail(pk), status=201)


class PinActorsView(APIView):
    """Who can help near a visible pin: places whose services answer its theme (carto.services.linking),
    their opening hours in words in the page's language."""

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, enum=list(HOURS_LANGUAGES), description="default fr")],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, pk: int):
        language = request.query_params.get("lang") or "fr"
        if language not in HOURS_LANGUAGES:
            raise InvalidInput(
                "invalid_parameter",
                f"lang must be one of {', '.join(HOURS_LANGUAGES)}",
                fields={"lang": [language[:60]]},
            )
        pin = get_object_or_404(Pin.objects.visible().select_related("theme"), pk=pk)
        actors = [actor_nearby(a, language=language) for a in actors_near_pin(pin)]
        return APIResponse({"pin": pin.pk, "actors": actors})
