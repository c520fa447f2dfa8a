"""Moderation and follow-up: flags on pins, the status timeline, and comments under pins."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

COMMENT_MAX_LENGTH = 1000
# One flagger: exactly one of a signed-in user or an anonymous device (keyed hash of its token).
_ONE_FLAGGER = (Q(user__isnull=False) & Q(device_hash="")) | (Q(user__isnull=True) & ~Q(device_hash=""))


class Flag(models.Model):
    """One person's report that a pin breaks the rules; counted once per flagger."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        INSULT = "insult", "Insult"
        PERSONAL_DATA = "personal_data", "Personal data"
        OFF_TOPIC = "off_topic", "Off-topic"

    pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    device_hash = models.CharField(max_length=64, blank=True)
    # The flagger's network (keyed hash of the IP address): auto-hide needs several distinct networks.
    ip_hash = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when a moderator reviewed the pin (hid or restored it): reviewed flags no longer count.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Concurrent flags by one flagger end as one row: the database decides, not the view.
            models.UniqueConstraint(
                fields=["pin", "user"], condition=Q(user__isnull=False), name="flag_once_per_user"
            ),
            models.UniqueConstraint(
                fields=["pin", "device_hash"], condition=~Q(device_hash=""), name="flag_once_per_device"
            ),
            models.CheckConstraint(name="flag_has_one_flagger", condition=_ONE_FLAGGER),
            models.CheckConstraint(
                name="flag_reason_valid",
                condition=Q(reason__in=["spam", "insult", "personal_data", "off_topic"]),
            ),
        ]
        indexes = [
            # The moderation queue: pins with open flags.
            models.Index(fields=["pin"], condition=Q(resolved_at__isnull=True), name="flag_open_by_pin"),
        ]

    def __str__(self) -> str:
        return f"flag {self.reason} on pin {self.pin_id}"


class StatusChange(models.Model):
    """One entry of a pin's status history; public entries make its timeline.

    Moderation changes (hide, restore, automatic hide) are kept here too, not public, so that a
    restore knows the status to return to. The actor is private: only the role label is shown, and
    a name only when the person chose to show it.
    """

    pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    note = models.CharField(max_length=500, blank=True)
    role = models.CharField(max_length=32)
    display_name = models.CharField(max_length=150, blank=True)
    public = models.BooleanField(default=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # GET /api/pins/{id}/timeline/ and the restore lookup of the last hide.
            models.Index(fields=["pin", "created_at", "id"], name="status_change_pin"),
        ]

    def __str__(self) -> str:
        return f"pin {self.pin_id}: {self.from_status} -> {self.to_status}"


class Comment(models.Model):
    """An update under a pin ("we run a free printing point on Tuesdays"), moderated like pins."""

    class Status(models.TextChoices):
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden"

    pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_hash = models.CharField(max_length=64, blank=True)
    # The author's role when writing (shown instead of a name).
    role = models.CharField(max_length=32)
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="comment_text_length",
                condition=Q(
                    GreaterThanOrEqual(Length("text"), 1), LessThanOrEqual(Length("text"), COMMENT_MAX_LENGTH)
                ),
            ),
            models.CheckConstraint(
                name="comment_status_valid", condition=Q(status__in=["visible", "hidden"])
            ),
        ]
        indexes = [
            # GET /api/pins/{id}/comments/: the visible comments of a pin in order.
            models.Index(fields=["pin", "status", "created_at", "id"], name="comment_pin_visible"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on pin {self.pin_id}"
