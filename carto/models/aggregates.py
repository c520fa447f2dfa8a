"""Stored aggregates of visible pins: grid cells per zoom, read by low-zoom tiles and the hexbin statistics."""

from __future__ import annotations

from django.db import models


class PinCell(models.Model):
    """Visible pins counted per Web Mercator grid cell, zoom, theme, kind and month of creation.

    A tile at zoom `zoom` holds CELLS_PER_TILE × CELLS_PER_TILE cells (see carto.stats.grid), so a
    low-zoom tile or a hexbin request reads a few hundred rows instead of every pin.
    Maintained by carto.stats.heatmaps.aggregates_add_pin / aggregates_remove_pin; rebuilt by
    `manage.py rebuild_aggregates`.
    """

    zoom = models.PositiveSmallIntegerField()
    cx = models.IntegerField()  # column, from the west edge of the Web Mercator world
    cy = models.IntegerField()  # row, from the north edge (as tile y)
    theme = models.ForeignKey("carto.Theme", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    # First day of the month the pin was created: `since` filters on aggregates have month granularity.
    month = models.DateField()
    count = models.IntegerField(default=0)
    # Sums of the Web Mercator coordinates of the public locations: centroid = sum / count.
    sum_x = models.FloatField(default=0)
    sum_y = models.FloatField(default=0)

    class Meta:
        db_table = "carto_pin_cell"
        constraints = [
            models.UniqueConstraint(
                fields=["zoom", "cx", "cy", "theme", "kind", "month"], name="pin_cell_key"
            ),
            models.CheckConstraint(name="pin_cell_count_nonnegative", condition=models.Q(count__gte=0)),
        ]
        indexes = [
            # Low-zoom tiles: WHERE zoom = z AND cx BETWEEN … AND cy BETWEEN …; hexbins: WHERE zoom = z.
            models.Index(fields=["zoom", "cx", "cy"], name="pin_cell_zoom_xy"),
        ]

    def __str__(self) -> str:
        return (
            f"z{self.zoom} {self.cx}/{self.cy} theme {self.theme_id} {self.kind} {self.month}: {self.count}"
        )
