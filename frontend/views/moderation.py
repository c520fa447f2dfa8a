"""The moderation queue page (/moderation/): pending, flagged and least surely clustered pins."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from carto.roles import Action, can
from carto.services.cluster_curation import is_curator


@ensure_csrf_cookie
def moderation(request):
    """The queue itself comes from /api/moderation/queue/; actions post to /api/moderation/pins/… and
    /api/clusters/{id}/decisions/."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Action.MODERATION_QUEUE):
        raise PermissionDenied
    # The clustering section's "same need" buttons are for curators (moderators and associations).
    return render(request, "frontend/moderation.html", {"is_curator": is_curator(request.user)})
