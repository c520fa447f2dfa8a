"""The pins API: create (single, batch, replay-safe), read (bbox list, detail, mine), similar, supports, photos."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import is_id, parse_bbox, parse_int, parse_pin_filter
from api.requester import device_hash, ip_hash, owned_by, signed_in
from api.schema import DEVICE_TOKEN, FEATURE_COLLECTION, IDEMPOTENCY_KEY, PIN_FILTER_PARAMETERS
from api.serializers.clusters import cluster_brief
from api.serializers.pin_input import (
    PinBatchInput,
    PinCreateFormInput,
    PinCreateInput,
    PinPhotoInput,
    SimilarQuery,
)
from api.serializers.pins import created_pin_feature, pin_collection_page, pin_feature, pin_features
from carto.errors import DomainError, InvalidInput, NotAllowed
from carto.models import Pin, Territory
from carto.services import abuse
from carto.services.pin_photos import photo_url, pin_photo_add
from carto.services.pins import pin_submit
from carto.services.similar import pins_similar
from carto.services.supports import pin_support, pin_unsupport


def escape_json(body: bytes) -> bytes:
    """<, > and & as \\u escapes (they only occur inside JSON strings), and U+2028/2029 as DRF does."""
    body = body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


class EscapingJSONRenderer(JSONRenderer):
    """JSON with <, > and & as \\u escapes: residents' text can never become markup, even if misused."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return escape_json(super().render(data, accepted_media_type, renderer_context))


# What a client posts (the schema's examples, also what schemathesis tries first).
_PIN = {"kind": "need", "theme": "acceder-droits", "text": "Pas d'endroit pour imprimer mes papiers CAF"}
PIN_EXAMPLES = [
    OpenApiExample(
        "A resident's need",
        request_only=True,
        media_type="application/json",
        value={"client_uuid": "5d8b2f3e-8b3c-4d7e-9a55-1f2b3c4d5e6f", **_PIN, "lat": 48.8718, "lon": 2.3848},
    ),
    OpenApiExample(
        "An aidant's pin, on a resident's behalf",
        request_only=True,
        media_type="application/json",
        value={
            "client_uuid": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            **_PIN,
            "location": {"type": "Point", "coordinates": [2.3848, 48.8718]},
            "mediated": {"structure": "the source id of the aidant's structure", "consent": True},
        },
    ),
]


class PinsAPIView(APIView):
    renderer_classes = [EscapingJSONRenderer]
    parser_classes = [JSONParser, MultiPartParser]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, abuse.Throttled):
            response["Retry-After"] = str(exc.retry_after)
        return response


def submit(request, data, *, form: bool = False):
    """One pin through the service; returns (feature, created)."""
    serializer = PinCreateFormInput if form else PinCreateInput
    pin = serializer.validated(data, form=form, idempotency_key=request.headers.get("Idempotency-Key"))
    mediated = pin.get("mediated") or {}
    photo = pin.get("photo")
    result = pin_submit(
        client_uuid=pin["client_uuid"],
        kind=pin["kind"],
        theme_slug=pin["theme"],
        text=pin["text"],
        location=pin["location"],
        language=pin["language"],
        author=signed_in(request),
        device_hash=device_hash(request),
        ip_hash=ip_hash(request),
        structure_source_id=mediated.get("structure"),
        consent=mediated.get("consent"),
        photo=photo.read() if photo is not None else None,
    )
    feature = created_pin_feature(result.pin) if result.created and photo is None else None
    return feature or pin_feature(result.pin.pk, owner=True), result.created


class PinListView(PinsAPIView):
    """Visible pins as a paginated GeoJSON FeatureCollection; POST records a pin."""

    @extend_schema(
        operation_id="pins_list",
        parameters=[
            OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (WGS84)"),
            *PIN_FILTER_PARAMETERS,
            OpenApiParameter("territory", {"type": "string", "maxLength": 20}),
            OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
        ],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request):
        params = request.query_params
        bbox = parse_bbox(params.get("bbox"))
        pins = parse_pin_filter(params).apply(Pin.objects.visible())
        if bbox:
            pins = pins.filter(public_location__intersects=bbox)
        if code := params.get("territory"):
            territory = Territory.objects.filter(code=code).first()
            if territory is None:
                raise InvalidInput(
                    "unknown_territory", "No territory has this code.", fields={"territory": [code[:60]]}
                )
            pins = pins.in_territory(territory)
        page = _page_number(params.get("page"))

        size = settings.CARTO_PINS_PAGE_SIZE
        start = (page - 1) * size
        # One SELECT returns the total and the page's features as JSON text (see pin_collection_page).
        count, features = pin_collection_page(pins, start=start, size=size)
        if count is None:
            count = pins.count() if start else 0
        if count > settings.CARTO_PINS_MAX_FEATURES:
            raise DomainError(
                "too_many_features",
                f"{count} pins match, more than {settings.CARTO_PINS_MAX_FEATURES}: zoom in, filter, or use "
                "/api/pins/clusters/ or the vector tiles /api/tiles/pins/{z}/{x}/{y}.mvt",
                status=413,
            )
        next_url = None
        if start + size < count:
            query = params.copy()
            query["page"] = str(page + 1)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        head = json.dumps({"type": "FeatureCollection", "count": count, "next": next_url})
        # The features are already JSON: spliced in as text, escaped as EscapingJSONRenderer does.
        body = f'{head[:-1]}, "features": {features}}}'.encode()
        return HttpResponse(escape_json(body), content_type="application/json")

    @extend_schema(
        request={"application/json": PinCreateInput, "multipart/form-data": PinCreateFormInput},
        examples=PIN_EXAMPLES,
        parameters=[DEVICE_TOKEN, IDEMPOTENCY_KEY],
        responses={201: {"type": "object"}, 200: {"type": "object"}},
    )
    def post(self, request):
        form = request.content_type.startswith("multipart/")
        feature, created = submit(request, request.data, form=form)
        if created:
            return Response(feature, status=201)
        return Response(feature, status=200, headers={"Idempotent-Replay": "true"})


def _page_number(value: str | None) -> int:
    return parse_int(value, "page", default=1, minimum=1, maximum=100_000, code="invalid_page")


class PinDetailView(PinsAPIView):
    """One visible pin; its own device or author also sees it while pending, with the reason."""

    @extend_schema(
        parameters=[DEVICE_TOKEN],
        responses={200: {"type": "object"}},
    )
    def get(self, request, pk: int):
        if Pin.objects.visible().filter(pk=pk).exists():
            own = owned_by(request)
            return Response(
                pin_feature(pk, owner=own is not None and Pin.objects.filter(own, pk=pk).exists())
            )
        own = owned_by(request)
        if own is not None and Pin.objects.filter(own, pk=pk).exists():
            return Response(pin_feature(pk, owner=True))
        raise DomainError("not_found", "Not found.", status=404)


class PinMineView(PinsAPIView):
    """The pins among ?ids= that this device (or signed-in author) made, whatever their status."""

    @extend_schema(
        parameters=[
            OpenApiParameter("ids", {"type": "string", "pattern": "^[0-9]{1,18}(,[0-9]{1,18}){0,499}$"}),
            DEVICE_TOKEN,
        ],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request):
        own = owned_by(request)
        raw = request.query_params.get("ids", "")
        parts = [p for p in raw.split(",") if p]
        if len(parts) > 500 or not all(is_id(p) for p in parts):
            raise InvalidInput(
                "invalid_ids", "ids must be up to 500 comma-separated integers", fields={"ids": ["bad"]}
            )
        if own is None:
            raise InvalidInput("device_token_required", "Send the X-Device-Token header to list your pins.")
        pins = Pin.objects.filter(own, pk__in=[int(p) for p in parts]).order_by("-created_at", "-id")
        return Response({"type": "FeatureCollection", "features": pin_features(pins, owner=True)})


class PinSimilarView(PinsAPIView):
    """Up to 5 visible pins near a point that say the same as the text being written, and its cluster."""

    @extend_schema(parameters=[SimilarQuery], responses={200: {"type": "object"}})
    def get(self, request):
        query = SimilarQuery.validated(request.query_params, form=True)
        similar = pins_similar(location=query["location"], theme_slug=query["theme"], text=query["text"])
        return Response(
            {
                "results": [r.__dict__ for r in similar.pins],
                # "Elsewhere in the Métropole": the cluster this text would join, or null.
                "cluster": cluster_brief(similar.cluster) if similar.cluster else None,
            }
        )


class PinBatchView(PinsAPIView):
    """Several pins in one request (an aidant's session): each in its own transaction, a result per item."""

    parser_classes = [JSONParser]

    @extend_schema(
        request=PinBatchInput,
        parameters=[DEVICE_TOKEN],
        responses={200: {"type": "object"}},
    )
    def post(self, request):
        items = PinBatchInput.validated(request.data)["pins"]
        results = []
        for index, item in enumerate(items):
            try:
                feature, created = submit(request, item)
            except DomainError as exc:
                error = {"code": exc.code, "message": exc.message, "fields": exc.fields}
                results.append({"index": index, "status": exc.status, "error": error})
            else:
                results.append({"index": index, "status": 201 if created else 200, "pin": feature})
        return Response({"results": results})


class PinSupportView(PinsAPIView):
    """ "Moi aussi": POST adds this device's or user's support once, DELETE withdraws it."""

    @extend_schema(
        request=None,
        parameters=[DEVICE_TOKEN],
        responses={200: {"type": "object"}, 201: {"type": "object"}},
    )
    def post(self, request, pk: int):
        result = pin_support(
            pin_id=pk, user=signed_in(request), device_hash=device_hash(request), ip_hash=ip_hash(request)
        )
        body = {"support_count": result.support_count, "supported": True}
        return Response(body, status=201 if result.created else 200)

    @extend_schema(
        parameters=[DEVICE_TOKEN],
        responses={200: {"type": "object"}},
    )
    def delete(self, request, pk: int):
        result = pin_unsupport(pin_id=pk, user=signed_in(request), device_hash=device_hash(request))
        return Response({"support_count": result.support_count, "supported": False})


class PinPhotosView(PinsAPIView):
    """Add a photo to a pin: only the device or author who made it may."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PinPhotoInput},
        parameters=[DEVICE_TOKEN],
        responses={201: {"type": "object"}},
    )
    def post(self, request, pk: int):
        own = owned_by(request)
        pin = Pin.objects.filter(own, pk=pk).first() if own is not None else None
        if pin is None:
            if Pin.objects.visible().filter(pk=pk).exists():
                raise NotAllowed("not_your_pin", "Only the device that made this pin may add photos to it.")
            raise DomainError("not_found", "Not found.", status=404)
        upload = PinPhotoInput.validated(request.data, form=True)["photo"]
        pin_photo_add(pin=pin, data=upload.read())
        names = pin.photos.order_by("id").values_list("file", flat=True)
        return Response({"photos": [photo_url(name) for name in names]}, status=201)
