"""Themes residents choose by pictogram: a two-level taxonomy loaded from fixtures/themes.json."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Theme(models.Model):
    """A theme (or a group of themes when `parent` is empty), with a pictogram and labels in every language."""

    slug = models.SlugField(max_length=40, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    order = models.PositiveSmallIntegerField(default=0)
    color = models.CharField(max_length=7)
    pictogram = models.CharField(max_length=60)
    # Privacy: how far a pin's public location is moved (0 for public-space issues, more for home/family).
    blur_meters = models.PositiveSmallIntegerField(default=50)
    labels = models.JSONField(default=dict)
    easy = models.JSONField(default=dict)
    keywords = models.JSONField(default=dict)
    # Services of the national "lieux de médiation numérique" schema that answer this theme.
    services = ArrayField(models.CharField(max_length=80), default=list, blank=True)

    class Meta:
        ordering = ["order", "slug"]
        constraints = [
            models.CheckConstraint(
                name="theme_color_hex", condition=models.Q(color__regex=r"^#[0-9a-fA-F]{6}$")
            ),
            models.CheckConstraint(name="theme_blur_bounded", condition=models.Q(blur_meters__lte=500)),
        ]

    def __str__(self) -> str:
        return self.slug

    def label(self, language: str = "fr") -> str:
        return self.labels.get(language) or self.labels.get("fr") or self.slug
