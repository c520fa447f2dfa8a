"""The one error shape of the API: {"error": {"code", "message", "fields"}}, from one handler."""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.open311.views import error_response as open311_error
from carto.errors import DomainError

logger = logging.getLogger("carto.api")

_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_input",
}


# Django's SuspiciousOperation (too many form fields or files, a forged Host): no detail is given back.
MALFORMED = ("malformed_request", "The request is malformed.")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def allowed_methods(*methods: str):
    """For the plain Django views of the API (tiles, exports, basemap): any other method is a 405 in the
    one error shape with its Allow header (Django's require_GET answered an empty body)."""
    allow = ", ".join(methods)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = JsonResponse(
                    error_body("method_not_allowed", f"Only {allow} allowed here."), status=405
                )
                response["Allow"] = allow
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _flatten(detail) -> dict:
    """DRF validation details as {"field": ["message", …]} (nested fields joined with dots)."""
    if isinstance(detail, dict):
        out: dict = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                out.update({f"{key}.{k}": v for k, v in _flatten(value).items()})
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    return {"non_field_errors": [str(v) for v in (detail if isinstance(detail, list) else [detail])]}


def exception_handler(exc, context) -> Response | None:
    """Turn every exception raised under /api/ into the one error shape (never a trace or SQL)."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(error_body("body_too_large", "The request body is too large."), status=413)
    elif isinstance(exc, SuspiciousOperation):
        # Django's own refusals while parsing (more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields or
        # DATA_UPLOAD_MAX_NUMBER_FILES files): the client's fault, never a 500.
        return Response(error_body(*MALFORMED), status=400)
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return Response(
            error_body("service_unavailable", "The service is temporarily unavailable, please retry."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    elif isinstance(exc, DataError):
        # A value PostgreSQL cannot take (NUL byte, integer out of range) came from the client: a 400.
        logger.info("database refused a value: %s", type(exc).__name__)
        return Response(error_body("invalid_input", "A value in the request is not valid."), status=400)
    elif isinstance(exc, DatabaseError):
        logger.error("database error: %s", type(exc).__name__)
        return Response(error_body("server_error", "Unexpected server error."), status=500)
    if not isinstance(exc, exceptions.APIException):
        return None
    code = _CODES.get(type(exc), getattr(exc, "default_code", "error"))
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        codes = exc.get_codes()
        custom = _first_custom_code(codes)
        first = next(iter(fields.values()), ["Invalid input."])[0]
        response = Response(error_body(custom or "invalid_input", first, fields), status=exc.status_code)
    else:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response = Response(error_body(code, str(message)), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait) + 1)
    if auth_header := getattr(exc, "auth_header", None):  # a 401 says how to authenticate (RFC 9110)
        response["WWW-Authenticate"] = auth_header
    return response


def _first_custom_code(codes) -> str | None:
    """A serializer may raise ValidationError(code="invalid_location"): surface it as the error code."""
    generic = {"invalid", "required", "null", "blank", "max_length", "min_length", "max_value", "min_value",
               "invalid_choice", "does_not_exist", "unknown_field"}  # fmt: skip
    stack = [codes]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item not in generic:
            return item
    return None


def json_400(request, exception=None):
    """Project-wide 400 for what Django refuses before a view runs (a Host not in ALLOWED_HOSTS, too many
    form fields): the API's error shape under /api/, Open311's error list under /open311/."""
    return _refusal(request, 400, "bad_request", "The request is malformed.") or defaults.bad_request(
        request, exception
    )


def json_403(request, exception=None):
    """Project-wide 403 (a plain Django view's PermissionDenied, a CSRF refusal): JSON under the APIs."""
    return _refusal(request, 403, "permission_denied", "Permission denied.") or defaults.permission_denied(
        request, exception
    )


def _refusal(request, status: int, code: str, message: str):
    # request.path only: get_host() would raise DisallowedHost again.
    if request.path.startswith("/open311/"):
        return open311_error(status, message, fmt="xml" if request.path.endswith(".xml") else "json")
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return None


def json_404(request, exception=None):
    """Project-wide 404: the JSON shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def json_500(request):
    """Project-wide 500: never a trace; JSON under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Unexpected server error."), status=500)
    return defaults.server_error(request)
