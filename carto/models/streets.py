"""Streets of the Métropole, from the operator's OpenStreetMap basemap: places to search by name."""

from __future__ import annotations

from django.contrib.gis.db import models

from carto.geo import STORAGE_SRID


class Street(models.Model):
    """One named street of one commune (of one arrondissement in Paris), its basemap segments merged.

    Derived data, replaced whole by carto.importers.streets from the basemap's z14 tiles (OpenMapTiles'
    `transportation_name` layer): a street crossing a commune limit is one Street on each side, which is
    what tells homonyms apart ("Rue de Paris · Montreuil", "Rue de Paris · Bagnolet").
    """

    # "<INSEE code>-<8 hex of the name's search key>": the same street keeps its code across imports.
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)  # as the basemap writes it, its most common spelling
    commune = models.ForeignKey("carto.Territory", on_delete=models.CASCADE, related_name="+")
    # Paris's streets are told apart by arrondissement, as Parisians do ("Rue des Pyrénées · Paris 20e").
    arrondissement = models.ForeignKey(
        "carto.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    geometry = models.MultiLineStringField(srid=STORAGE_SRID)

    class Meta:
        ordering = ["name", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
