"""Recompute the aggregates of visible pins (square cells and hexagons) (after a bulk import, or to repair drift)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from carto.stats.heatmaps import aggregates_rebuild


class Command(BaseCommand):
    help = "Rebuild carto_pin_cell (low-zoom tiles, map clusters) and carto_pin_hex (hexbins) from the visible pins."

    def handle(self, *args, **options):
        cells = aggregates_rebuild()
        self.stderr.write(f"{cells} cells rebuilt")
