"""The gazetteer behind GET /api/places/: every searchable name of a commune, arrondissement, QPV, station or
street."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex
from django.db.models import Q


class PlaceName(models.Model):
    """One name a place can be searched by, with its search key (carto_search_key: no accents, lower case,
    punctuation as spaces).

    Derived data, rebuilt whole by carto.services.places.place_names_rebuild at the end of load_all: the
    keys are computed once there instead of at each keystroke (measured on the real data: 8 ms per search
    with the keys computed in the query, about 2.4 ms from this table and its trigram index). A station
    has a row per distinct name (its own and IDFM's other names for the stop area); a territory or a street
    one row.
    """

    class Kind(models.TextChoices):
        COMMUNE = "commune", "Commune"
        ARRONDISSEMENT = "arrondissement", "Arrondissement"
        QPV = "qpv", "QPV"
        STATION = "station", "Station"
        STREET = "street", "Street"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=20)  # INSEE, QN…, IDFM stop area, or Street.code
    name = models.CharField(max_length=200)  # this name as written
    # Another name of a station ("La Muette" for the stop area named Boulainvilliers): shown beside its name.
    is_alias = models.BooleanField(default=False)
    key = models.TextField()  # text, not varchar: the trigram index is not used through a varchar cast
    territory = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    station = models.ForeignKey(
        "carto.Station", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    street = models.ForeignKey(
        "carto.Street", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["kind", "code", "key"]
        constraints = [
            models.CheckConstraint(
                name="place_name_one_place",
                condition=(
                    Q(kind="station")
                    & Q(station__isnull=False)
                    & Q(territory__isnull=True)
                    & Q(street__isnull=True)
                )
                | (
                    Q(kind="street")
                    & Q(street__isnull=False)
                    & Q(territory__isnull=True)
                    & Q(station__isnull=True)
                )
                | (
                    ~Q(kind__in=["station", "street"])
                    & Q(territory__isnull=False)
                    & Q(station__isnull=True)
                    & Q(street__isnull=True)
                ),
            ),
            models.UniqueConstraint(fields=["kind", "code", "key"], name="place_name_unique"),
        ]
        indexes = [
            # GET /api/places/?q=: the `<%` and LIKE prefilter of carto.sql.places.
            # No pending list (fastupdate): the gazetteer is only ever rebuilt whole, and 30,000 street names
            # left in the list until autovacuum made every search scan it (bench/places.py: 14 ms → 0.4 ms).
            GinIndex(
                fields=["key"], opclasses=["gin_trgm_ops"], fastupdate=False, name="place_name_key_trgm"
            ),
            # The same request's exact match on an official code ("93048", "QN07520M", "75120").
            models.Index(fields=["code"], name="place_name_code"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}: {self.key}"
