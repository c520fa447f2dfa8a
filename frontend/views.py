"""The pages: thin views that render a template; the data comes from the API in the browser."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render


def home(request):
    """The metropolitan map (and, from it, the resident's pin flow)."""
    return render(request, "frontend/home.html", {"basemap_url": settings.CARTO_BASEMAP_URL})
