"""/coverage/ for officials: the needs voiced in several communes that no Grand Paris response covers yet.

The page draws its table from /api/coverage/ and its map from /api/coverage/gaps.geojson in the browser.
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.shortcuts import render

from api.views.coverage import DEFAULT_MIN_TERRITORIES
from carto.services.cluster_curation import is_curator


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
