"""GeoReport v2 endpoints: discovery, services, requests (GET and POST), tokens; JSON or XML by suffix."""

from __future__ import annotations

import json
import logging
import uuid
from functools import wraps

from django.contrib.gis.geos import Point
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from api.open311 import serializers as s
from api.open311.xml import to_xml
from api.params import is_id
from api.security import client_ip, security_event
from carto.errors import DomainError, InvalidInput
from carto.geo import API_SRID
from carto.models import ApiKey, Pin
from carto.services import abuse
from carto.services.pins import pin_submit
from carto.services.privacy import keyed_hash

logger = logging.getLogger("carto.open311")

CONTACT = "Métropole du Grand Paris — carto, participatory mapping of the quartiers"
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-01T00:00:00+01:00"


def _render(data, *, fmt: str, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, item, data), status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(data, ensure_ascii=False).encode()
    # As in the JSON API: residents' text can never become markup, even when a client misuses it.
    body = body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def error_response(status: int, description: str, *, fmt: str = "json") -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "…"}] (or <errors><error>…)."""
    return _render(
        [{"code": status, "description": description}], fmt=fmt, root="errors", item="error", status=status
    )


def open311(*methods: str):
    """Allowed methods, and every failure as the spec's error list (never a trace)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, fmt: str = "json", **kwargs):
            if request.method not in methods:
                response = error_response(405, f"Method {request.method[:10]} not allowed.", fmt=fmt)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except abuse.Throttled as exc:
                response = error_response(429, exc.message, fmt=fmt)
                response["Retry-After"] = str(exc.retry_after)
                return response
            except DomainError as exc:
                status = exc.status if exc.status in (400, 403, 404) else 400
                return error_response(status, exc.message, fmt=fmt)
            except (OperationalError, InterfaceError) as exc:
                logger.warning("database unavailable: %s", type(exc).__name__)
                response = error_response(
                    503, "The service is temporarily unavailable, please retry.", fmt=fmt
                )
                response["Retry-After"] = "5"
                return response
            except Exception as exc:
                logger.error("unhandled Open311 error: %s", type(exc).__name__)
                return error_response(500, "Unexpected server error.", fmt=fmt)

        return wrapper

    return decorate


@open311("GET")
def discovery(request, *, fmt: str):
    base = request.build_absolute_uri(reverse("open311-root"))
    data = {
        "changeset": CHANGESET,
        "contact": CONTACT,
        "key_service": "API keys are issued by the carto operators (manage.py create_api_key).",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _render(data, fmt=fmt, root="discovery", item=None)


@open311("GET")
def service_list(request, *, fmt: str):
    language = s.language_of(request.GET)
    data = [s.service(theme, language=language) for theme in s.services_queryset()]
    return _render(data, fmt=fmt, root="services", item="service")


@open311("GET")
def service_definition(request, code: str, *, fmt: str):
    if not s.services_queryset().filter(slug=code[:40]).exists():
        raise DomainError("not_found", "No service has this service_code.", status=404)
    # Every service has metadata false: no extra attributes to fill in.
    data = {"service_code": code, "attributes": []}
    return _render(data, fmt=fmt, root="service_definition", item=None)


@csrf_exempt  # API-key authenticated; no cookie is ever read by this endpoint.
@open311("GET", "POST")
def request_list(request, *, fmt: str):
    if request.method == "POST":
        return _request_create(request, fmt=fmt)
    filters = s.parse_request_filters(request.GET)
    pins = s.filter_requests(s.requests_queryset(), filters, now=timezone.now())
    start = (filters.page - 1) * filters.page_size
    page = pins.order_by("-created_at", "-id")[start : start + filters.page_size]
    language = s.language_of(request.GET)
    data = [s.service_request(pin, language=language, absolute=request.build_absolute_uri) for pin in page]
    return _render(data, fmt=fmt, root="service_requests", item="request")


def _request_create(request, *, fmt: str) -> HttpResponse:
    params = request.POST
    ip = keyed_hash(client_ip(request), purpose="ip")
    key = ApiKey.objects.matching(params.get("api_key", ""))
    if key is None:
        security_event("open311_bad_api_key", ip=ip[:16], given="api_key" in params)
        raise DomainError(
            "invalid_api_key", "A valid api_key is required to POST a service request.", status=403
        )
    data = s.parse_request_input(params)
    if not s.services_queryset().filter(slug=data.service_code).exists():
        raise InvalidInput("unknown_service", f"service_code {data.service_code!r} is not a service.")
    device = keyed_hash(f"open311:{key.pk}:{data.device_id}", purpose="device") if data.device_id else ""
    # The same service as POST /api/pins/: the same screening, throttles, blur and placement.
    # media_url is not fetched (no server-side request to a client-given URL) and not kept.
    result = pin_submit(
        client_uuid=uuid.uuid4(),
        kind=Pin.Kind.NEED,
        theme_slug=data.service_code,
        text=data.description,
        location=Point(data.lon, data.lat, srid=API_SRID),
        device_hash=device,
        ip_hash=ip,
    )
    pin = result.pin
    answer = {
        "service_request_id": str(pin.pk),
        # The token finds the id again later (GET tokens/{token}), even while the pin awaits moderation.
        "token": str(pin.client_uuid),
        "service_notice": "" if pin.is_visible else "Held for moderation before it is shown.",
        "account_id": "",
    }
    return _render([answer], fmt=fmt, root="service_requests", item="request", status=201)


@open311("GET")
def request_detail(request, request_id: str, *, fmt: str):
    if not is_id(request_id):
        raise DomainError("not_found", "No service request has this id.", status=404)
    pin = s.requests_queryset().filter(pk=int(request_id)).first()
    if pin is None:
        raise DomainError("not_found", "No service request has this id.", status=404)
    data = [s.service_request(pin, language=s.language_of(request.GET), absolute=request.build_absolute_uri)]
    return _render(data, fmt=fmt, root="service_requests", item="request")


@open311("GET")
def token_detail(request, token: str, *, fmt: str):
    try:
        client_uuid = uuid.UUID(token[:40])
    except ValueError:
        client_uuid = None
    pin_id = (
        Pin.objects.filter(client_uuid=client_uuid).values_list("pk", flat=True).first()
        if client_uuid
        else None
    )
    if pin_id is None:
        raise DomainError("not_found", "No service request has this token.", status=404)
    data = [{"service_request_id": str(pin_id), "token": str(client_uuid)}]
    return _render(data, fmt=fmt, root="service_requests", item="request")


@open311("GET", "POST")
def not_found(request, *, fmt: str = "json", rest: str = ""):
    raise DomainError("not_found", "Unknown Open311 endpoint.", status=404)
