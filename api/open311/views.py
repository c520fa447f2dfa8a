"""GeoReport v2 endpoints: discovery, services, requests (GET and POST), tokens; JSON or XML by suffix."""

from __future__ import annotations

import json
import logging
import uuid

from django.contrib.gis.geos import Point
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from api.open311 import serializers as s
from api.open311.schema import (
    CREATED,
    DISCOVERY,
    FORMAT,
    LOCALE,
    SERVICE,
    SERVICE_DEFINITION,
    SERVICE_REQUEST,
    TOKEN,
    answers,
    many,
)
from api.open311.xml import to_xml
from api.params import is_id
from api.requester import ip_hash
from api.security import security_event
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


class SuffixNegotiation(BaseContentNegotiation):
    """The .json or .xml suffix chooses the format, never the Accept header (no 406 for an XML client)."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Open311View(APIView):
    """A GeoReport v2 endpoint: a DRF view (so the OpenAPI schema lists it, with its parameters) that
    answers every failure in the spec's own error list, JSON or XML by the suffix, never a trace."""

    authentication_classes = ()  # API-key authenticated (a form field); no cookie is ever read
    permission_classes = ()
    parser_classes = (FormParser, MultiPartParser)  # the spec POSTs forms
    content_negotiation_class = SuffixNegotiation
    metadata_class = None  # OPTIONS is refused as any method the spec does not name

    @property
    def default_response_headers(self):
        # The methods the spec names here: HEAD and OPTIONS are DRF's, not GeoReport's.
        return {"Allow": ", ".join(m for m in self.allowed_methods if m not in ("HEAD", "OPTIONS"))}

    def handle_exception(self, exc):
        fmt = self.kwargs.get("fmt", "json")
        if isinstance(exc, abuse.Throttled):
            response = error_response(429, exc.message, fmt=fmt)
            response["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, DomainError):
            return error_response(exc.status if exc.status in (400, 403, 404) else 400, exc.message, fmt=fmt)
        if isinstance(exc, exceptions.MethodNotAllowed):  # with Allow (default_response_headers)
            return error_response(405, f"Method {self.request.method[:10]} not allowed.", fmt=fmt)
        if isinstance(exc, exceptions.APIException):  # 415 for a JSON body, 400 for a malformed form
            return error_response(exc.status_code, str(exc.detail), fmt=fmt)
        if isinstance(exc, RequestDataTooBig):
            return error_response(413, "The request body is too large.", fmt=fmt)
        if isinstance(exc, SuspiciousOperation):  # more form fields or files than Django reads
            return error_response(400, "The request is malformed.", fmt=fmt)
        if isinstance(exc, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", type(exc).__name__)
            response = error_response(503, "The service is temporarily unavailable, please retry.", fmt=fmt)
            response["Retry-After"] = "5"
            return response
        if isinstance(exc, DataError):  # a value PostgreSQL cannot take came from the client
            return error_response(400, "A value in the request is not valid.", fmt=fmt)
        logger.error("unhandled Open311 error: %s", type(exc).__name__)
        return error_response(500, "Unexpected server error.", fmt=fmt)


@extend_schema_view(
    get=extend_schema(
        operation_id="open311_discovery", responses=answers(200, DISCOVERY), parameters=[FORMAT]
    )
)
class DiscoveryView(Open311View):
    """The endpoint, its specification and formats."""

    def get(self, request, *, fmt: str):
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


@extend_schema_view(get=extend_schema(exclude=True))  # the same document as discovery.json
class RootView(DiscoveryView):
    pass


class ServiceListView(Open311View):
    """The themes that receive pins, as services (code = slug, group = the parent theme)."""

    @extend_schema(
        operation_id="open311_services",
        parameters=[FORMAT, LOCALE],
        responses=answers(200, many(SERVICE), 400),
    )
    def get(self, request, *, fmt: str):
        language = s.language_of(request.query_params)
        data = [s.service(theme, language=language) for theme in s.services_queryset()]
        return _render(data, fmt=fmt, root="services", item="service")


class ServiceDefinitionView(Open311View):
    """A service's attributes: none (every service has metadata false)."""

    @extend_schema(
        operation_id="open311_service_definition",
        parameters=[FORMAT, OpenApiParameter("code", str, OpenApiParameter.PATH)],
        responses=answers(200, SERVICE_DEFINITION, 404),
    )
    def get(self, request, code: str, *, fmt: str):
        if not s.services_queryset().filter(slug=code[:40]).exists():
            raise DomainError("not_found", "No service has this service_code.", status=404)
        # Every service has metadata false: no extra attributes to fill in.
        data = {"service_code": code, "attributes": []}
        return _render(data, fmt=fmt, root="service_definition", item=None)


class RequestListView(Open311View):
    """GET: visible pins as service requests (the last 90 days by default); POST: a new one, with an api_key."""

    @extend_schema(
        operation_id="open311_requests",
        parameters=[FORMAT, s.RequestsQuery],
        responses=answers(200, many(SERVICE_REQUEST), 400),
    )
    def get(self, request, *, fmt: str):
        filters = s.RequestsQuery.validated(request.query_params)
        pins = s.filter_requests(s.requests_queryset(), filters, now=timezone.now())
        start = (filters.page - 1) * filters.page_size
        page = pins.order_by("-created_at", "-id")[start : start + filters.page_size]
        language = s.language_of(request.query_params)
        data = [
            s.service_request(pin, language=language, absolute=request.build_absolute_uri) for pin in page
        ]
        return _render(data, fmt=fmt, root="service_requests", item="request")

    @extend_schema(
        operation_id="open311_request_create",
        parameters=[FORMAT],
        request={"application/x-www-form-urlencoded": s.RequestCreateForm},
        examples=[
            OpenApiExample(
                "A need at Belleville",
                request_only=True,
                media_type="application/x-www-form-urlencoded",
                value={
                    "api_key": "the key the carto operators issued",
                    "service_code": "acceder-droits",
                    "lat": 48.8718,
                    "long": 2.3848,
                    "description": "Personne pour m'aider à remplir mon dossier de retraite",
                },
            )
        ],
        responses=answers(201, many(CREATED), 400, 403, 429),
    )
    def post(self, request, *, fmt: str):
        params = request.data
        ip = ip_hash(request)
        api_key = params.get("api_key", "")
        key = ApiKey.objects.matching(api_key) if isinstance(api_key, str) else None
        if key is None:
            security_event("open311_bad_api_key", ip=ip[:16], given="api_key" in params)
            raise DomainError(
                "invalid_api_key", "A valid api_key is required to POST a service request.", status=403
            )
        data = s.RequestCreateForm.validated(params, form=True)
        service_code = data["service_code"][:40]
        if not s.services_queryset().filter(slug=service_code).exists():
            raise InvalidInput("unknown_service", f"service_code {service_code!r} is not a service.")
        device_id = data["device_id"][:200]
        device = keyed_hash(f"open311:{key.pk}:{device_id}", purpose="device") if device_id else ""
        # The same service as POST /api/pins/: the same screening, throttles, blur and placement.
        # media_url is not fetched (no server-side request to a client-given URL) and not kept.
        result = pin_submit(
            client_uuid=uuid.uuid4(),
            kind=Pin.Kind.NEED,
            theme_slug=service_code,
            text=data["description"],
            location=Point(data["long"], data["lat"], srid=API_SRID),
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


class RequestDetailView(Open311View):
    """One visible pin as a service request."""

    @extend_schema(
        operation_id="open311_request",
        parameters=[FORMAT, OpenApiParameter("request_id", str, OpenApiParameter.PATH), LOCALE],
        responses=answers(200, many(SERVICE_REQUEST), 404),
    )
    def get(self, request, request_id: str, *, fmt: str):
        if not is_id(request_id):
            raise DomainError("not_found", "No service request has this id.", status=404)
        pin = s.requests_queryset().filter(pk=int(request_id)).first()
        if pin is None:
            raise DomainError("not_found", "No service request has this id.", status=404)
        language = s.language_of(request.query_params)
        data = [s.service_request(pin, language=language, absolute=request.build_absolute_uri)]
        return _render(data, fmt=fmt, root="service_requests", item="request")


class TokenView(Open311View):
    """The service_request_id of a request POSTed earlier, found by its token (even while it awaits moderation)."""

    @extend_schema(
        operation_id="open311_token",
        parameters=[FORMAT, OpenApiParameter("token", str, OpenApiParameter.PATH)],
        responses=answers(200, many(TOKEN), 404),
    )
    def get(self, request, token: str, *, fmt: str):
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


@csrf_exempt  # nothing is read or written: the answer is the same for every method
def not_found(request, *, rest: str = ""):
    """Anything else under /open311/v2/ answers in the spec's error shape, not an HTML page."""
    return error_response(404, "Unknown Open311 endpoint.")
