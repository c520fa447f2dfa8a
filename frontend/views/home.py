"""The resident's page and its service worker."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import get_conditional_response, quote_etag
from django.views.decorators.cache import never_cache

from carto.roles import Action, can
from frontend import words
from frontend.modules import module_graph
from frontend.pictograms import sprite
from frontend.static_version import static_version


def home(request):
    """The resident's page: the metropolitan map and the pin flow (aidant mode for signed-in aidants)."""
    user = request.user
    is_aidant = user.is_authenticated and can(user, Action.PIN_CREATE_MEDIATED)
    language = words.page_language()
    response = render(
        request,
        "frontend/home.html",
        {
            "page_lang": language,
            "page_dir": "rtl" if language in words.RTL else "ltr",
            "catalogue": f"frontend/i18n/{language}.json",
            "basemap_url": settings.CARTO_BASEMAP_URL,
            "basemap_pmtiles": reverse("basemap") if settings.CARTO_BASEMAP_PMTILES else "",
            "is_aidant": is_aidant,
            "pictogram_sprite": sprite(),
            "modules": module_graph("frontend/app.js"),
        },
    )
    if user.is_authenticated:
        return response  # a signed-in page is no-store (api/security.py)
    # A returning phone asks again on every visit (its service worker goes to the network first): the same page
    # answers 304 instead of its ~5 KB. The tag is the hash of the bytes every anonymous visitor of that
    # language gets (no cookie, no token in them), so it tells nothing about who asks.
    response["ETag"] = quote_etag(hashlib.sha256(response.content).hexdigest()[:20])
    return get_conditional_response(request, etag=response["ETag"], response=response)


@never_cache
def service_worker(request):
    """static/sw.js served at /sw.js: a worker only controls pages under its own path, and we want all of `/`.

    Its cache name carries the content hash of our static files (static_version), so a change to any of them
    is a new worker for every returning phone.
    """
    path = finders.find("sw.js")
    if not path:
        raise Http404("sw.js")
    script = Path(path).read_text("utf-8").replace("__VERSION__", static_version(), 1)
    response = HttpResponse(script, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


# A few hundred bytes, the same for every page and rarely changed: a month in the browser's cache.
FAVICON_MAX_AGE = 30 * 86400


def favicon(request):
    """The page's icon (the "need" pictogram on the bar's colour), at /favicon.svg as the pages link it and at
    /favicon.ico, which browsers and crawlers ask for anyway: one request, never a 404 on a slow network."""
    path = finders.find("frontend/favicon.svg")
    if not path:
        raise Http404("favicon")
    response = FileResponse(open(path, "rb"), content_type="image/svg+xml")  # noqa: SIM115 (closed by Django)
    response["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response
