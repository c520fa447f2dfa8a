"""HTTP hardening: security headers, no caching of signed-in answers, the login lock-out, security logs."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.utils.cache import patch_vary_headers

from api.requester import client_ip, ip_hash
from carto.services import lockout
from carto.services.privacy import keyed_hash

security_log = logging.getLogger("carto.security")

# MapLibre draws in web workers made from blob: URLs and decodes images from data:/blob: URLs.
_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "worker-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


DOCS_PATH = "/api/docs/"


def content_security_policy(basemap_url: str = "", *, inline_styles: bool = False) -> str:
    """The CSP header value; an external basemap's origin is allowed for its tiles and style only.

    `inline_styles` for the API docs only: Swagger UI sets style attributes (its script is served as a
    file by the split view, so scripts stay 'self' there too).
    """
    directives = {name: list(sources) for name, sources in _CSP.items()}
    if inline_styles:
        directives["style-src"].append("'unsafe-inline'")
    parts = urlsplit(basemap_url) if basemap_url else None
    if parts and parts.scheme in ("https", "http") and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
        directives["img-src"].append(origin)
        directives["connect-src"].append(origin)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_event(event: str, **fields: str | int | bool) -> None:
    """One JSON line on the carto.security logger; callers pass hashes and codes, never personal data."""
    security_log.warning(json.dumps({"event": event, **fields}, sort_keys=True))


class SecurityHeadersMiddleware:
    """CSP on every response; `Cache-Control: no-store` on anything answered to a signed-in client."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = content_security_policy(settings.CARTO_BASEMAP_URL)
        self.docs_csp = content_security_policy(inline_styles=True)

    def __call__(self, request):
        response = self.get_response(request)
        csp = self.docs_csp if request.path.startswith(DOCS_PATH) else self.csp
        response.setdefault("Content-Security-Policy", csp)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        # DRF token authentication sets request.user during the view, so this is read afterwards.
        user = getattr(request, "user", None)
        try:
            signed_in = bool(user is not None and user.is_authenticated)
        except DatabaseError:
            # The session could not be read (database down, a 503 on its way): never let it be cached.
            signed_in = True
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        # A view that read X-Device-Token (api.requester.device_hash) may have answered the pin's owner
        # differently (a held pin, its reason): the answer varies on the header, and with a token it is
        # nobody else's to store. Views that never read it (themes, tiles) stay cacheable for everyone.
        device_read = getattr(request, "device_token_read", None)
        if device_read is not None:
            patch_vary_headers(response, ["X-Device-Token"])
        if device_read:
            response["Cache-Control"] = "private, no-store"
        if response.status_code in (401, 403):
            security_event(
                "access_refused",
                status=response.status_code,
                path=request.path[:100] if request.path.startswith(("/api/", "/open311/")) else "-",
                ip=ip_hash(request)[:16],
            )
        return response


class LockoutModelBackend(ModelBackend):
    """Django's username/password backend, refusing a username after repeated failures (carto.services.lockout)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if not isinstance(username, str) or not username:
            return None
        ip = client_ip(request)
        user_hash = keyed_hash(username.strip().lower(), purpose="login-user")[:16]
        network = ip_hash(request)[:16]
        if lockout.network_is_spraying(network=network):
            security_event("login_network_locked", user=user_hash, ip=network)
            raise PermissionDenied
        # Counted before the password is checked, so a burst of concurrent guesses cannot pass together.
        if not lockout.login_attempt_allowed(username=username, ip=ip):
            # Back-off: guessing keeps it locked. PermissionDenied stops django.contrib.auth.authenticate()
            # from trying any other backend.
            security_event("login_locked", user=user_hash, ip=network)
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout.network_failure_record(network=network)
            failures = lockout.login_failures(username=username, ip=ip)
            security_event("login_failed", user=user_hash, ip=network, failures=failures)
        else:
            lockout.login_success_reset(username=username, ip=ip)
            security_event("login_succeeded", user=user_hash, ip=network)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
