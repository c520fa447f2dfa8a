"""Grand Paris responses: programmes that answer needs, and curators' links from clusters to them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class Response(models.Model):
    """A public programme (Pass numérique, France Services…) at some scale, for some themes and area."""

    class Scale(models.TextChoices):
        COMMUNE = "commune", "Commune"
        EPT = "ept", "EPT"
        METROPOLE = "metropole", "Métropole"
        NATIONAL = "national", "National"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    operator = models.CharField(max_length=300, blank=True)
    scale = models.CharField(max_length=10, choices=Scale.choices)
    # Official codes (INSEE, EPT) where it applies; empty or "MGP" means everywhere in the Métropole.
    area_codes = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    themes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    url = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    active_from = models.DateField(null=True, blank=True)
    active_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                name="response_scale_valid",
                condition=Q(scale__in=["commune", "ept", "metropole", "national"]),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ResponseLink(models.Model):
    """A curator confirmed that a response answers a cluster's need."""

    cluster = models.ForeignKey("carto.Cluster", on_delete=models.CASCADE, related_name="response_links")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="cluster_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Linking twice is refused by the database too, whatever the race.
            models.UniqueConstraint(fields=["cluster", "response"], name="response_link_once"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id} -> {self.response_id}"
