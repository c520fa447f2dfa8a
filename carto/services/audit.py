"""The audit trail: who did what to which object, and why (every curator, moderator or official action)."""

from __future__ import annotations

from carto.models import AuditEntry


def audit(*, actor, action: str, obj, reason: str = "", data: dict | None = None) -> AuditEntry:
    """Record who did what to which object (every curator action writes one)."""
    return AuditEntry.objects.create(
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.pk),
        reason=reason[:500],
        data=data or {},
    )
