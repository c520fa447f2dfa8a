"""The territories of the Métropole du Grand Paris: Métropole, EPT, communes, arrondissements, QPV."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q

from carto.geo import STORAGE_SRID


class TerritoryQuerySet(models.QuerySet):
    def of_kind(self, kind: str) -> TerritoryQuerySet:
        return self.filter(kind=kind)

    def containing(self, point) -> TerritoryQuerySet:
        """Territories whose polygon covers the point (boundary included)."""
        return self.filter(geometry__intersects=point)


class Territory(models.Model):
    """One official territory, identified by its official code.

    A single table for every level keeps "any statistic at any level" one query, like MapIt's areas.
    Codes: INSEE for communes and arrondissements, T1…T12 for EPT, QN… for QPV, the EPCI SIREN for the Métropole.
    """

    class Kind(models.TextChoices):
        METROPOLE = "metropole", "Métropole"
        EPT = "ept", "EPT"
        COMMUNE = "commune", "Commune"
        ARRONDISSEMENT = "arrondissement", "Arrondissement"
        QPV = "qpv", "QPV"

    # Levels a pin is placed in, in the order its territories are listed.
    PIN_LEVELS = (Kind.COMMUNE, Kind.EPT, Kind.ARRONDISSEMENT, Kind.QPV)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    siren = models.CharField(max_length=9, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # QPV cross commune limits: every commune a QPV touches (from the ANCT list).
    communes = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="qpvs")
    geometry = models.MultiPolygonField(srid=STORAGE_SRID, null=True, blank=True)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                name="territory_kind_valid",
                condition=Q(kind__in=["metropole", "ept", "commune", "arrondissement", "qpv"]),
            ),
            # QPV contours are not in the shared open data: only they may lack a geometry.
            models.CheckConstraint(
                name="territory_geometry_required", condition=Q(kind="qpv") | Q(geometry__isnull=False)
            ),
        ]
        indexes = [
            # Territory.objects.of_kind(...) listings and per-level statistics.
            models.Index(fields=["kind", "code"], name="territory_kind_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
