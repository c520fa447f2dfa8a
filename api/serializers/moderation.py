"""Flags, status changes, timeline, comments, the moderation queue and the audit log as JSON.

Public shapes name a role and, only when the person chose it, a display name: never an account.
"""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.clusters import cluster_brief
from carto.models import AuditEntry, Comment, Flag, Pin, StatusChange


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (no silent mass assignment)."""

    def validate(self, attrs):
        unknown = (
            sorted(set(self.initial_data) - set(self.fields)) if hasattr(self.initial_data, "keys") else []
        )
        if unknown:
            raise serializers.ValidationError({name[:60]: ["unknown field"] for name in unknown[:20]})
        return attrs


class FlagInput(StrictSerializer):
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)


class TransitionInput(StrictSerializer):
    to = serializers.ChoiceField(choices=Pin.Status.choices)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    show_name = serializers.BooleanField(required=False, default=False)


class ModerationInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class RedactInput(StrictSerializer):
    reason = serializers.CharField(max_length=500)
    text = serializers.CharField(max_length=1000)


class CommentInput(StrictSerializer):
    text = serializers.CharField(max_length=1000, trim_whitespace=False)


def timeline_entry(change: StatusChange) -> dict:
    entry = {
        "from": change.from_status,
        "to": change.to_status,
        "note": change.note,
        "role": change.role,
        "created_at": change.created_at,
    }
    if change.display_name:  # only when the person chose to show it
        entry["name"] = change.display_name
    return entry


def comment_public(comment: Comment) -> dict:
    return {"id": comment.pk, "text": comment.text, "role": comment.role, "created_at": comment.created_at}


def queue_item(pin: Pin, reasons: dict[str, int]) -> dict:
    """A pin as a moderator sees it in the queue: its text and why it is there, never who wrote it."""
    return {
        "id": pin.pk,
        "kind": pin.kind,
        "theme": pin.theme.slug,
        "text": pin.text,
        "status": pin.status,
        "status_reason": pin.status_reason,
        "commune": pin.commune.name,
        "created_at": pin.created_at,
        "flags": reasons,
        "flag_count": sum(reasons.values()),
        "cluster": _queue_cluster(pin),
    }


def _queue_cluster(pin: Pin) -> dict | None:
    """The visible pin's cluster, for "same need" / "not the same need" (hidden pins have none)."""
    link = getattr(pin, "cluster_link", None) if pin.is_visible else None
    return cluster_brief(link.cluster) if link is not None else None


def audit_entry(entry: AuditEntry) -> dict:
    return {
        "id": entry.pk,
        "actor": entry.actor.get_username() if entry.actor else None,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "reason": entry.reason,
        "data": entry.data,
        "created_at": entry.created_at,
    }
