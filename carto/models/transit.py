"""Rail stations and line traces of Île-de-France Mobilités: orientation on the map and places to search.

From IDFM open data (ODbL, CARTO_DATA_DIR/idfm_*.geojson), loaded by carto.importers.transit.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Q

from carto.geo import STORAGE_SRID


class Mode(models.TextChoices):
    """IDFM transport modes, in the order a station lists its lines (metro first, as the signs do)."""

    METRO = "METRO", "Métro"
    RER = "RER", "RER"
    TRAIN = "TRAIN", "Train"
    TRAMWAY = "TRAMWAY", "Tramway"
    VAL = "VAL", "VAL"
    TER = "TER", "TER"
    NAVETTE = "NAVETTE", "Navette"


def station_label(name: str, lines: list[str]) -> str:
    """A station's name and its lines, as the search and the map show it: "Belleville · M2 M11"."""
    return f"{name} · {' '.join(lines)}" if lines else name


class StationQuerySet(models.QuerySet):
    def near(self, point, *, meters: float) -> StationQuerySet:
        """Stations within `meters` of a Lambert-93 point (GiST index on location)."""
        return self.filter(location__dwithin=(point, meters))


class Station(models.Model):
    """One IDFM stop area (zone d'arrêt): its name, its lines as short labels and their colours.

    IDFM lists a station once per line; a stop area gathers them ("Belleville": M2 and M11). `lines` and
    `line_colours` are parallel arrays, in signage order (M2 M11, then RER, trains, trams).
    """

    code = models.CharField(max_length=20, unique=True)  # IDFM stop_area_ref
    name = models.CharField(max_length=200)
    # Other names IDFM gives the stop area or its platforms ("Gare Montparnasse", "La Muette"): searchable.
    aliases = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    lines = ArrayField(models.CharField(max_length=40), default=list)
    line_colours = ArrayField(models.CharField(max_length=7), default=list)
    modes = ArrayField(models.CharField(max_length=16), default=list)  # Mode values, one per line
    location = models.PointField(srid=STORAGE_SRID)
    # Within the placement tolerance of the Métropole (carto_place's `inside`): the places search offers
    # only these, where a pin can go; the map and the nearest station use every station.
    in_metropole = models.BooleanField(default=False)

    objects = StationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "code"]
        constraints = [
            models.CheckConstraint(
                name="station_one_colour_per_line", condition=Q(lines__len=F("line_colours__len"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({' '.join(self.lines)})"

    @property
    def label(self) -> str:
        return station_label(self.name, self.lines)


class RailLine(models.Model):
    """The trace of one line (all its IDFM segments merged), with its official colour, for the map."""

    label = models.CharField(max_length=40, unique=True)  # "M2", "RER A", "T3b", "Train H", "TER"
    mode = models.CharField(max_length=16, choices=Mode.choices)
    line_ref = models.CharField(max_length=20, blank=True)  # IDFM line id (C01372…), the most common one
    colour = models.CharField(max_length=7)  # "#0055c8": IDFM's web colour of the line
    geometry = models.MultiLineStringField(srid=STORAGE_SRID)

    class Meta:
        ordering = ["mode", "label"]
        constraints = [
            models.CheckConstraint(name="rail_line_colour_hex", condition=Q(colour__regex=r"^#[0-9a-f]{6}$")),
        ]

    def __str__(self) -> str:
        return self.label
