"""Stored aggregates of visible pins per zoom: square grid cells (low-zoom tiles, map clusters) and hexagons
(hexbin statistics). Derived data, rebuilt from carto_pin by `manage.py rebuild_aggregates`: no foreign key
checks on their hot write path (see migration 0009)."""

from __future__ import annotations

from django.db import models


class PinCell(models.Model):
    """Visible pins counted per Web Mercator grid cell, zoom, theme, kind and month of creation.

    A tile at zoom `zoom` holds CELLS_PER_TILE × CELLS_PER_TILE cells (see carto.stats.grid), so a
    low-zoom tile or a hexbin request reads a few hundred rows instead of every pin.
    Maintained by a trigger on carto_pin (migration 0010); rebuilt by
    `manage.py rebuild_aggregates`.
    """

    zoom = models.PositiveSmallIntegerField()
    cx = models.IntegerField()  # column, from the west edge of the Web Mercator world
    cy = models.IntegerField()  # row, from the north edge (as tile y)
    theme = models.ForeignKey(
        "carto.Theme", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
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
        # Low-zoom tiles read WHERE zoom = z AND cx BETWEEN … AND cy BETWEEN …: the key's prefix serves them.

    def __str__(self) -> str:
        return (
            f"z{self.zoom} {self.cx}/{self.cy} theme {self.theme_id} {self.kind} {self.month}: {self.count}"
        )


class PinCellTotal(models.Model):
    """PinCell summed over theme, kind and month: one row per cell, read by the unfiltered map views.

    Maintained by the same trigger as PinCell (migration 0011).
    """

    zoom = models.PositiveSmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    count = models.IntegerField(default=0)
    sum_x = models.FloatField(default=0)
    sum_y = models.FloatField(default=0)

    class Meta:
        db_table = "carto_pin_cell_total"
        indexes = [
            # Map groups' rings (carto.stats.map_groups): their north and south strips span many columns
            # and few rows, which the unique key's (zoom, cx, cy) order scans column by column.
            models.Index(fields=["zoom", "cy", "cx"], name="pin_cell_total_zoom_row"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["zoom", "cx", "cy"], name="pin_cell_total_key"),
            models.CheckConstraint(name="pin_cell_total_count_nonnegative", condition=models.Q(count__gte=0)),
        ]

    def __str__(self) -> str:
        return f"z{self.zoom} {self.cx}/{self.cy}: {self.count}"


class PinHex(models.Model):
    """Visible pins counted per hexagon of a Web Mercator hex grid, zoom, theme, kind and month of creation.

    Hexagon (i, j) at `zoom` is PostGIS's ST_Hexagon(hex_size(zoom), i, j) in EPSG:3857 (carto.stats.grid):
    as many hexagons as square cells per tile, of the same area. Maintained with PinCell.
    """

    zoom = models.PositiveSmallIntegerField()
    i = models.IntegerField()  # column; odd columns are shifted half a hexagon up
    j = models.IntegerField()  # row, from the equator northwards
    theme = models.ForeignKey(
        "carto.Theme", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    kind = models.CharField(max_length=16)
    month = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        db_table = "carto_pin_hex"
        constraints = [
            models.UniqueConstraint(fields=["zoom", "i", "j", "theme", "kind", "month"], name="pin_hex_key"),
            models.CheckConstraint(name="pin_hex_count_nonnegative", condition=models.Q(count__gte=0)),
        ]

    def __str__(self) -> str:
        return (
            f"z{self.zoom} hex {self.i}/{self.j} theme {self.theme_id} {self.kind} {self.month}: {self.count}"
        )


class PinHexTotal(models.Model):
    """PinHex summed over theme, kind and month: one row per hexagon, read by the unfiltered hexbins.

    Maintained by the same trigger as PinHex (migration 0017).
    """

    zoom = models.PositiveSmallIntegerField()
    i = models.IntegerField()
    j = models.IntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        db_table = "carto_pin_hex_total"
        constraints = [
            models.UniqueConstraint(fields=["zoom", "i", "j"], name="pin_hex_total_key"),
            models.CheckConstraint(name="pin_hex_total_count_nonnegative", condition=models.Q(count__gte=0)),
        ]

    def __str__(self) -> str:
        return f"z{self.zoom} hex {self.i}/{self.j}: {self.count}"
