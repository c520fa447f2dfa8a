"""Pins: the needs and proposals residents put on the map, their supports ("moi aussi") and photos."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.measure import D
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from carto.geo import STORAGE_SRID

TEXT_MAX_LENGTH = 1000


class PinQuerySet(models.QuerySet):
    def visible(self) -> PinQuerySet:
        """Pins any member of the public may see."""
        return self.filter(status__in=Pin.VISIBLE_STATUSES)

    def near(self, point, *, meters: float) -> PinQuerySet:
        """Pins whose public location is within `meters` of `point` (uses the GiST index)."""
        return self.filter(public_location__dwithin=(point, D(m=meters)))

    def in_territory(self, territory) -> PinQuerySet:
        field = {"commune": "commune", "ept": "ept", "arrondissement": "arrondissement", "qpv": "qpv"}.get(
            territory.kind
        )
        if field is None:  # the Métropole: every pin is in it
            return self
        return self.filter(**{field: territory})


class Pin(models.Model):
    """A need or a proposal pinned by a resident (or by an aidant on their behalf)."""

    class Kind(models.TextChoices):
        NEED = "need", "Need"
        PROPOSAL = "proposal", "Proposal"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending moderation"
        RECEIVED = "received", "Received"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        LINKED = "linked", "Linked to a response"
        RESOLVED = "resolved", "Resolved"
        DECLINED = "declined", "Declined"
        HIDDEN = "hidden", "Hidden"

    # Named sets, FixMyStreet-style: the only places that say which statuses mean what.
    VISIBLE_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.LINKED, Status.RESOLVED, Status.DECLINED)
    OPEN_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.LINKED)
    CLOSED_STATUSES = (Status.RESOLVED, Status.DECLINED)
    HIDDEN_STATUSES = (Status.PENDING, Status.HIDDEN)

    client_uuid = models.UUIDField(unique=True)
    # SHA-256 of the canonical request body: a replay with another body is refused, not merged.
    request_fingerprint = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    theme = models.ForeignKey("carto.Theme", on_delete=models.PROTECT, related_name="pins")
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    # Private: the point the resident gave. Never serialised publicly.
    location = models.PointField(srid=STORAGE_SRID)
    # Public: displaced once at write time (see carto.services.privacy); the only location shown.
    public_location = models.PointField(srid=STORAGE_SRID)
    commune = models.ForeignKey("carto.Territory", on_delete=models.PROTECT, related_name="commune_pins")
    ept = models.ForeignKey("carto.Territory", on_delete=models.PROTECT, related_name="ept_pins")
    arrondissement = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.PROTECT, related_name="arrondissement_pins"
    )
    qpv = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.PROTECT, related_name="qpv_pins"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    status_reason = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="pins"
    )
    # Private keyed hashes (never the raw token or address): throttles, "my pins", pre-moderation.
    device_hash = models.CharField(max_length=64, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    mediated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mediated_pins",
    )
    mediated_structure = models.ForeignKey(
        "carto.Actor", null=True, blank=True, on_delete=models.SET_NULL, related_name="mediated_pins"
    )
    consent = models.BooleanField(null=True, blank=True)
    spam_score = models.FloatField(default=0)
    support_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PinQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="pin_text_length",
                condition=Q(
                    GreaterThanOrEqual(Length("text"), 1), LessThanOrEqual(Length("text"), TEXT_MAX_LENGTH)
                ),
            ),
            models.CheckConstraint(name="pin_kind_valid", condition=Q(kind__in=["need", "proposal"])),
            models.CheckConstraint(
                name="pin_status_valid",
                condition=Q(
                    status__in=[
                        "pending",
                        "received",
                        "acknowledged",
                        "linked",
                        "resolved",
                        "declined",
                        "hidden",
                    ]
                ),
            ),
            models.CheckConstraint(name="pin_location_valid", condition=Q(location__isvalid=True)),
            # A mediated pin must record the resident's consent.
            models.CheckConstraint(
                name="pin_mediated_needs_consent", condition=Q(mediated_by__isnull=True) | Q(consent=True)
            ),
            # The Métropole bounding box (Lambert-93, 1 km margin) as the last line of defence;
            # the exact perimeter test (with its tolerance) is in carto.services.pins.
            models.CheckConstraint(
                name="pin_location_in_mgp_box",
                condition=Q(
                    GreaterThanOrEqual(
                        models.Func("location", function="ST_X", output_field=models.FloatField()), 635000
                    ),
                    LessThanOrEqual(
                        models.Func("location", function="ST_X", output_field=models.FloatField()), 674000
                    ),
                    GreaterThanOrEqual(
                        models.Func("location", function="ST_Y", output_field=models.FloatField()), 6836000
                    ),
                    LessThanOrEqual(
                        models.Func("location", function="ST_Y", output_field=models.FloatField()), 6882000
                    ),
                ),
            ),
        ]
        indexes = [
            # GET /api/pins/?status=&theme= listing in the default order.
            models.Index(fields=["status", "-created_at", "-id"], name="pin_status_created"),
            models.Index(fields=["theme", "status"], name="pin_theme_status"),
            # Throttles and "new device" pre-moderation count a device's recent pins.
            models.Index(fields=["device_hash", "created_at"], name="pin_device_created"),
        ]

    def __str__(self) -> str:
        return f"Pin {self.pk} ({self.kind}, {self.theme_id})"

    @property
    def is_visible(self) -> bool:
        return self.status in self.VISIBLE_STATUSES


class Support(models.Model):
    """One "moi aussi": by a signed-in user or by an anonymous device (hashed token), once per pin."""

    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    device_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Concurrent double taps must end as one row: the database decides, not the view.
            models.UniqueConstraint(
                fields=["pin", "user"], condition=Q(user__isnull=False), name="support_once_per_user"
            ),
            models.UniqueConstraint(
                fields=["pin", "device_hash"], condition=~Q(device_hash=""), name="support_once_per_device"
            ),
            models.CheckConstraint(
                name="support_has_one_supporter",
                condition=(Q(user__isnull=False) & Q(device_hash=""))
                | (Q(user__isnull=True) & ~Q(device_hash="")),
            ),
        ]


class PinPhoto(models.Model):
    """A photo attached to a pin: re-encoded without any metadata, stored under a random name."""

    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, related_name="photos")
    # Indexed: every request for a photo file asks whether a visible pin still names it (pin_photos).
    file = models.FileField(upload_to="photos/", max_length=200, db_index=True)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class WriteCounter(models.Model):
    """Fixed-window write counters shared by every worker process (throttles)."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="write_counter_window")]
