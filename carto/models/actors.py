"""Local actors who can help: lieux de médiation numérique, associations, centres sociaux, libraries."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex

from carto.geo import STORAGE_SRID


class ActorQuerySet(models.QuerySet):
    def located(self) -> ActorQuerySet:
        return self.filter(location__isnull=False)

    def offering(self, services: list[str]) -> ActorQuerySet:
        return self.filter(services__overlap=services)


class Actor(models.Model):
    """A place or structure, following the national schema "lieux de médiation numérique" v1.0.2.

    The schema's core columns are real columns (we query them); the remaining ones are kept verbatim
    in `schema_extra` so that an export gives back a row that validates against the schema.
    Contact fields are the structure's own published, organisational contacts, never a person's.
    """

    source_id = models.CharField(max_length=100, unique=True)  # schema `id`
    pivot = models.CharField(max_length=14, blank=True)  # SIRET/RNA, or 14 zeros when unknown
    name = models.CharField(max_length=300)
    address = models.CharField(max_length=300)
    postcode = models.CharField(max_length=5)
    commune_name = models.CharField(max_length=120)
    code_insee = models.CharField(max_length=5, blank=True)
    commune = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.PROTECT, related_name="actors"
    )
    arrondissement = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.PointField(srid=STORAGE_SRID, null=True, blank=True)
    typologie = models.CharField(max_length=200, blank=True)
    services = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    publics = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    horaires = models.TextField(blank=True)
    telephone = models.CharField(max_length=20, blank=True)
    courriels = models.CharField(max_length=300, blank=True)
    site_web = models.CharField(max_length=500, blank=True)
    presentation = models.CharField(max_length=280, blank=True)
    source = models.CharField(max_length=100, blank=True)
    date_maj = models.DateField()
    schema_extra = models.JSONField(default=dict, blank=True)
    in_mgp = models.BooleanField(default=False)

    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # "who can help near here": services overlap filter on actors nearest a pin.
            GinIndex(fields=["services"], name="actor_services_gin"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_located(self) -> bool:
        return self.location is not None
