"""The moderation queue page (/moderation/): pre-moderated and flagged pins, for moderators only."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from carto.roles import Action, can


@ensure_csrf_cookie
def moderation(request):
    """The queue itself comes from /api/moderation/queue/; actions post to /api/moderation/pins/…"""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Action.MODERATION_QUEUE):
        raise PermissionDenied
    return render(request, "frontend/moderation.html")
