"""Flags, the status workflow and timeline, comments, the moderation queue and actions, the audit log."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api.params import parse_int, valid
from api.requester import device_hash, ip_hash, owned_by, signed_in
from api.serializers.moderation import (
    CommentInput,
    FlagInput,
    ModerationInput,
    RedactInput,
    TransitionInput,
    audit_entry,
    comment_public,
    queue_item,
    timeline_entry,
)
from api.views.pins import PinsAPIView
from carto.errors import DomainError
from carto.models import AuditEntry, Pin
from carto.roles import Action, can, require
from carto.services.comments import comment_create, comment_hide, comment_restore, visible_comments
from carto.services.moderation import (
    flag_reasons,
    moderation_queue,
    pin_flag,
    pin_hide,
    pin_redact,
    pin_restore,
)
from carto.services.workflow import pin_timeline, pin_transition

AUDIT_LIMIT = 100
AUDIT_MAX = 500


def readable_pin(request, pk: int) -> Pin:
    """A pin the requester may read: visible to all, else only to its device/author and moderators."""
    pin = Pin.objects.filter(pk=pk).first()
    if pin is not None and not pin.is_visible and not can(signed_in(request), Action.MODERATION_QUEUE):
        own = owned_by(request)
        if own is None or not Pin.objects.filter(own, pk=pk).exists():
            pin = None
    if pin is None:
        raise DomainError("not_found", "Not found.", status=404)
    return pin


class PinFlagView(PinsAPIView):
    """Flag a visible pin (spam, insult, personal data, off-topic): once per device or user."""

    @extend_schema(request=FlagInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = valid(FlagInput, request.data)
        result = pin_flag(
            pin_id=pk,
            reason=data["reason"],
            user=signed_in(request),
            device_hash=device_hash(request),
            ip_hash=ip_hash(request),
        )
        return Response(
            {"flagged": True, "reason": result.flag.reason}, status=201 if result.created else 200
        )


class PinStatusView(PinsAPIView):
    """Move a pin along the workflow (received → acknowledged → linked → resolved, or declined)."""

    @extend_schema(request=TransitionInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = valid(TransitionInput, request.data)
        pin = pin_transition(
            pin_id=pk, actor=signed_in(request), to=data["to"], note=data["note"], show_name=data["show_name"]
        )
        return Response({"id": pin.pk, "status": pin.status, "timeline": _timeline(request, pin)})


def _timeline(request, pin: Pin) -> list[dict]:
    own = owned_by(request)
    owner = own is not None and Pin.objects.filter(own, pk=pin.pk).exists()
    return [timeline_entry(c) for c in pin_timeline(pin, owner=owner)]


class PinTimelineView(PinsAPIView):
    """The public status history of a pin: note, date and role of each step."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        pin = readable_pin(request, pk)
        return Response({"id": pin.pk, "status": pin.status, "timeline": _timeline(request, pin)})


class PinCommentsView(PinsAPIView):
    """The visible comments under a pin; POST adds one (device token or account)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        pin = Pin.objects.visible().filter(pk=pk).first()
        if pin is None:
            raise DomainError("not_found", "Not found.", status=404)
        return Response({"results": [comment_public(c) for c in visible_comments(pin)]})

    @extend_schema(request=CommentInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = valid(CommentInput, request.data)
        comment = comment_create(
            pin_id=pk,
            text=data["text"],
            author=signed_in(request),
            device_hash=device_hash(request),
            ip_hash=ip_hash(request),
        )
        # Its author learns whether it is shown or held, and why.
        body = {**comment_public(comment), "status": comment.status, "status_reason": comment.status_reason}
        return Response(body, status=201)


class ModerationQueueView(PinsAPIView):
    """Pins waiting for a moderator: pre-moderated ones and flagged ones (moderators only)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        queue = moderation_queue(actor=signed_in(request))
        reasons = flag_reasons([p.pk for pins in queue.values() for p in pins])
        return Response({name: [queue_item(p, reasons[p.pk]) for p in pins] for name, pins in queue.items()})


class PinModerationView(PinsAPIView):
    """POST /api/moderation/pins/{id}/hide|restore|redact/ with a reason (moderators only)."""

    operation = ""  # set by as_view(): hide, restore or redact

    @extend_schema(request=ModerationInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        actor = signed_in(request)
        if self.operation == "redact":
            data = valid(RedactInput, request.data)
            pin = pin_redact(pin_id=pk, actor=actor, text=data["text"], reason=data["reason"])
        else:
            data = valid(ModerationInput, request.data)
            service = pin_hide if self.operation == "hide" else pin_restore
            pin = service(pin_id=pk, actor=actor, reason=data["reason"])
        pin = Pin.objects.select_related("theme", "commune").get(pk=pin.pk)
        return Response(queue_item(pin, flag_reasons([pin.pk])[pin.pk]))


class CommentModerationView(PinsAPIView):
    """POST /api/moderation/comments/{id}/hide|restore/ with a reason (moderators only)."""

    operation = ""

    @extend_schema(request=ModerationInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        data = valid(ModerationInput, request.data)
        service = comment_hide if self.operation == "hide" else comment_restore
        comment = service(comment_id=pk, actor=signed_in(request), reason=data["reason"])
        return Response({**comment_public(comment), "status": comment.status})


class AuditView(PinsAPIView):
    """Who did what, when and why: the audit log, newest first (admins only)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("object_type", str),
            OpenApiParameter("object_id", str),
            OpenApiParameter("action", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        require(signed_in(request), Action.AUDIT_READ)
        params = request.query_params
        entries = AuditEntry.objects.select_related("actor")
        for name in ("object_type", "object_id", "action"):
            if value := params.get(name):
                entries = entries.filter(**{name: value[:40]})
        limit = parse_int(params.get("limit"), "limit", default=AUDIT_LIMIT, maximum=AUDIT_MAX)
        offset = parse_int(params.get("offset"), "offset", default=0)
        total = entries.count()
        page = entries.order_by("-created_at", "-id")[offset : offset + limit]
        return Response({"count": total, "results": [audit_entry(e) for e in page]})
