"""GET /api/pins/clusters/?bbox=&zoom=: grid clusters of the visible pins, with exact counts.

The map's hot path: an anonymous JSON GET is answered by `pin_clusters` without DRF's dispatch (request
wrapper, content negotiation, authentication, rendering: ~0.6 ms of the ~3 ms a request took through gunicorn
in bench/clusters_supercluster.py, measured by routing the same work past DRF). Everything else (a token or
any Authorization header, another method, an Accept that JSON does not satisfy, a bad parameter)
goes to PinClusterView, the DRF view, which answers exactly as before: one set of rules, one error shape
(a failure of the database is answered 503 by api.middleware, as for any view).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import parse_bbox_extent, parse_int, parse_pin_filter
from api.schema import PIN_FILTER_PARAMETERS
from carto.errors import DomainError, InvalidInput
from carto.stats.grid import MAX_ZOOM
from carto.stats.map_groups import map_groups_in_box
from carto.stats.map_index_holder import map_index_for


def parse_zoom(value: str | None) -> int:
    """An integer zoom between 0 and 22."""
    return parse_int(value, "zoom", default=None, maximum=MAX_ZOOM, code="invalid_zoom")


class PinClusterView(APIView):
    """Visible pins of the box grouped per grid cell; the counts sum exactly to the pins in the box."""

    @extend_schema(
        responses={200: {"type": "object"}},
        parameters=[
            OpenApiParameter("bbox", str, required=True, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            OpenApiParameter("zoom", int, required=True),
            *PIN_FILTER_PARAMETERS,
            OpenApiParameter(
                "X-Map-Groups",
                str,
                location=OpenApiParameter.HEADER,
                response=True,
                enum=["memory", "sql"],
                description="which path answered: the worker's in-memory index or SQL (same groups)",
            ),
        ],
    )
    def get(self, request):
        body, answered_by = clusters_answer(request.query_params)
        response = Response(body)
        response["X-Map-Groups"] = answered_by
        return response


def clusters_answer(params) -> tuple[dict, str]:
    """The answer's body for the query parameters, and which path answered: "memory" (the worker's index)
    or "sql" (the X-Map-Groups header, read by the bench)."""
    bbox = parse_bbox_extent(params.get("bbox"))
    if bbox is None:
        raise InvalidInput("invalid_bbox", "bbox is required", fields={"bbox": ["required"]})
    zoom = parse_zoom(params.get("zoom"))
    pin_filter = parse_pin_filter(params)
    index = map_index_for(pin_filter)
    clusters = map_groups_in_box(bbox=bbox, zoom=zoom, pin_filter=pin_filter, index=index)
    body = {"clusters": clusters, "total": sum(c["count"] for c in clusters)}
    return body, "memory" if index is not None else "sql"


_drf_view = PinClusterView.as_view()
_renderer = JSONRenderer()
# What DRF's path adds to a 200, so both paths answer alike: the view's methods (Allow, as finalize_response),
# and Vary: Cookie, which SessionMiddleware adds once DRF's session authentication has read the session: an
# answer to a signed-in client carries no-store (api.security), so a shared cache must tell them apart.
_ALLOW = "GET, HEAD, OPTIONS"


def _plain_get(request) -> bool:
    """An anonymous GET that takes JSON: nothing DRF's authentication or negotiation would decide."""
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    return accept in ("", "*/*") or "application/json" in accept


@csrf_exempt  # as every DRF view (as_view): CSRF is checked by DRF's session authentication, on writes
def pin_clusters(request) -> HttpResponse:
    """The route of GET /api/pins/clusters/: see the module docstring."""
    if not _plain_get(request):
        return _drf_view(request)
    try:
        body, answered_by = clusters_answer(request.GET)
    except DomainError:  # a bad parameter: DRF's view refuses it, in the one error shape
        return _drf_view(request)
    response = HttpResponse(_renderer.render(body), content_type=_renderer.media_type)
    response["X-Map-Groups"] = answered_by
    response["Allow"] = _ALLOW
    patch_vary_headers(response, ("Cookie",))
    return response


# drf-spectacular documents the route as the DRF view it stands for (its parameters, its responses).
pin_clusters.cls = PinClusterView
pin_clusters.initkwargs = {}
