"""Keep the one JSON error shape under /api/ even for errors raised outside DRF views, and refuse
requests no endpoint can take (a NUL byte in the address, a body over the limit, JSON nested past the
parser's depth) before any view parses them."""

from __future__ import annotations

import logging
from urllib.parse import unquote

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.core.exceptions import SuspiciousOperation
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.template.loader import render_to_string

from api.errors import MALFORMED, error_body
from api.open311.views import error_response as open311_error

logger = logging.getLogger("carto.api")


class RangeAwareGZipMiddleware(GZipMiddleware):
    """Django's gzip, except for byte ranges (206, 416): a Content-Range counts the bytes as stored, so a
    compressed 206 would no longer match it (the basemap's PMTiles reader reads such ranges)."""

    def process_response(self, request, response):
        if response.has_header("Content-Range"):
            return response
        return super().process_response(request, response)


class PageMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's notices after a save) for pages only: no API view shows one, so an API
    request skips the storages Django's middleware builds, and saves, on every request."""

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        return super().__call__(request)


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path.startswith("/api/")
        refused = refusal(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if (
            is_api
            and response.status_code == 404
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(error_body("not_found", "Not found."), status=404)
        return response

    def process_exception(self, request, exception):
        # The database may fail before any DRF view runs (sessions, authentication): answer 503, not a trace.
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", type(exception).__name__)
            if request.path.startswith("/api/"):
                response = JsonResponse(
                    error_body(
                        "service_unavailable", "The service is temporarily unavailable, please retry."
                    ),
                    status=503,
                )
                response["Retry-After"] = "5"
                return response
            # Pages: a friendly message in the resident's language, not a trace.
            # Rendered without the request: its context processors would read the session, i.e. the database.
            response = HttpResponse(render_to_string("503.html"), status=503)
            response["Retry-After"] = "5"
            return response
        if isinstance(exception, RecursionError):
            # json.loads of "[" x 20,000 (or objects as deep): a malformed body on any JSON endpoint.
            return JsonResponse(
                error_body("malformed_request", "The JSON body is nested too deeply."), status=400
            )
        if request.path.startswith("/api/") and isinstance(exception, SuspiciousOperation):
            # Too many form fields or files, raised while a view reads the body: the client's fault.
            return JsonResponse(error_body(*MALFORMED), status=400)
        if request.path.startswith("/api/") and isinstance(exception, DataError):
            # A value PostgreSQL cannot take (NUL byte, integer out of range) came from the client.
            return JsonResponse(
                error_body("invalid_input", "A value in the request is not valid."), status=400
            )
        if request.path.startswith("/api/"):
            logger.error("unhandled API error: %s", type(exception).__name__)
            return JsonResponse(error_body("server_error", "Unexpected server error."), status=500)
        return None


def refusal(request) -> HttpResponse | None:
    """A 400 for a NUL byte in the path or query (PostgreSQL refuses them in text), a 413 for a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE (DRF's parsers read the stream, bypassing Django's own check)."""
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "\x00" in unquote(query):
        return _refused(request, 400, "invalid_input", "The address holds a NUL character.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _refused(request, 413, "body_too_large", "The request body is too large.")
    return None


def _refused(request, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/open311/"):
        # GeoReport v2 clients read the spec's error list, in the format of the address's suffix.
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return open311_error(status, message, fmt=fmt)
    return JsonResponse(error_body(code, message), status=status)
