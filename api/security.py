"""HTTP hardening: security headers, no caching of signed-in answers, the login lock-out, security logs."""

from __future__ import annotations

import json
import logging
import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.utils.cache import patch_vary_headers

from api.requester import client_ip, ip_hash
from carto.services import lockout
from carto.services.privacy import keyed_hash
from config.log_filters import path_for_logs

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

# A browser that signed in keeps a signed token naming its device for that username (carto.services.lockout:
# someone guessing elsewhere cannot lock the owner out of their own phone). Signed, so it cannot be made up;
# HttpOnly, so no script reads it; it holds a keyed hash of the username and a random id, nothing personal.
KNOWN_DEVICE_COOKIE = "carto_known_device"
KNOWN_DEVICE_SECONDS = 180 * 24 * 3600
_KNOWN_DEVICE_SALT = "carto.known-device"
_DEVICE_ID = re.compile(r"[0-9a-f]{16}")


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
        if token := getattr(request, "known_device_token", None):
            response.set_cookie(
                KNOWN_DEVICE_COOKIE, token, max_age=KNOWN_DEVICE_SECONDS, httponly=True, samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )  # fmt: skip
        if response.status_code in (401, 403):
            security_event(
                "access_refused",
                status=response.status_code,
                path=path_for_logs(request.path)[:100]
                if request.path.startswith(("/api/", "/open311/"))
                else "-",
                ip=ip_hash(request)[:16],
            )
        return response


def known_device(request, username: str) -> str:
    """The device id this browser's token names for `username`; "" without one (none, forged, expired, or
    another username's)."""
    value = request.COOKIES.get(KNOWN_DEVICE_COOKIE, "") if request is not None else ""
    try:
        token = signing.loads(value, salt=_KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_SECONDS) if value else None
    except signing.BadSignature:
        return ""
    if not isinstance(token, dict) or token.get("u") != lockout.username_key(username):
        return ""
    device = token.get("d")
    return device if isinstance(device, str) and _DEVICE_ID.fullmatch(device) else ""


def _known_device_remember(request, username: str, device: str) -> None:
    """Have the response give this browser its token (SecurityHeadersMiddleware sets the cookie)."""
    token = signing.dumps({"u": lockout.username_key(username), "d": device or secrets.token_hex(8)},
                          salt=_KNOWN_DEVICE_SALT)  # fmt: skip
    # DRF's Request wraps Django's: the middleware sees the latter.
    getattr(request, "_request", request).known_device_token = token


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
        # A device this username signed in from is not judged by what others do (a sprayer on a shared
        # address, someone guessing its password elsewhere): only its own failures count against it.
        device = known_device(request, username)
        if not device and lockout.network_is_spraying(network=network):
            security_event("login_network_locked", user=user_hash, ip=network)
            raise PermissionDenied
        # Counted before the password is checked, so a burst of concurrent guesses cannot pass together.
        if not lockout.login_attempt_allowed(username=username, ip=ip, device=device):
            # Back-off: guessing keeps it locked. PermissionDenied stops django.contrib.auth.authenticate()
            # from trying any other backend.
            security_event("login_locked", user=user_hash, ip=network)
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lockout.network_failure_record(network=network)
            failures = lockout.login_failures(username=username, ip=ip, device=device)
            security_event(
                "login_failed", user=user_hash, ip=network, failures=failures, known_device=bool(device)
            )
        else:
            lockout.login_success_reset(username=username, ip=ip, device=device)
            _known_device_remember(request, username, device)
            security_event("login_succeeded", user=user_hash, ip=network)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
