"""GET /media/photos/<name>: a pin's photo file, only while carto.services.pin_photos may serve it."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.static import serve

from carto.services.pin_photos import photo_may_be_served

# A hidden photo must not outlive its takedown in shared caches for long.
MAX_AGE = 300


def photo_file(request, path: str):
    """The file (Last-Modified, 304 on revalidation), or the one 404 when its pin is hidden or gone."""
    if not photo_may_be_served(name=path, user=request.user):
        raise Http404("No such photo.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    # A signed-in moderator's copy gets no-store instead (api.security).
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
