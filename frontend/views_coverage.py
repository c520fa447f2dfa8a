"""/coverage/ for officials: the needs voiced in several communes that no Grand Paris response covers yet.

The page draws its table from /api/coverage/ in the browser. The map needs where those needs are, which the
coverage API does not say (a cluster summary has no geometry): /coverage/gaps.geojson gives the public
(blurred) location of the visible pins of each uncovered cluster, one point per pin, public fields only.
"""

from __future__ import annotations

from django.contrib.gis.db.models.functions import Transform
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.http import require_GET

from api.params import parse_int
from api.tiles import json_errors
from api.views.coverage import DEFAULT_MIN_TERRITORIES
from carto.geo import API_SRID
from carto.models import Pin
from carto.services.cluster_curation import is_curator
from carto.services.linking import coverage

# Enough points to show where 200 gaps are; the table (from the API) lists them all.
GAP_POINTS_MAX = 5000
COORDINATE_DECIMALS = 5


def coverage_page(request):
    """Map of uncovered clusters and the table of gaps and responses (all data fetched by coverage.js);
    curators also get "same need" / "not the same need" on a cluster's pins."""
    curator = is_curator(request.user)
    if curator:
        get_token(request)  # their decisions are session POSTs: api.js sends the CSRF cookie's token
    return render(
        request,
        "frontend/coverage.html",
        {"default_min_territories": DEFAULT_MIN_TERRITORIES, "is_curator": curator},
    )


@require_GET
@json_errors
def coverage_gaps(request):
    """GeoJSON points of the visible pins of the uncovered clusters (?min_territories=N, as /api/coverage/)."""
    minimum = parse_int(
        request.GET.get("min_territories"), "min_territories", default=DEFAULT_MIN_TERRITORIES
    )
    gaps = coverage(min_territories=minimum).gaps
    labels = {c.pk: c for c in gaps}
    rows = (
        Pin.objects.visible()
        .filter(cluster_link__cluster_id__in=list(labels))
        .annotate(point=Transform("public_location", API_SRID))
        .order_by("-support_count", "id")
        .values_list("id", "cluster_link__cluster_id", "point")[:GAP_POINTS_MAX]
    )
    features = []
    for pin_id, cluster_id, point in rows:
        cluster = labels[cluster_id]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(point.x, COORDINATE_DECIMALS), round(point.y, COORDINATE_DECIMALS)],
                },
                "properties": {
                    "pin": pin_id,
                    "cluster": cluster_id,
                    "label": cluster.label,
                    "territory_count": cluster.territory_count,
                },
            }
        )
    return JsonResponse({"type": "FeatureCollection", "min_territories": minimum, "features": features})
