"""Import the streets of the operator's basemap (PMTiles) and make them searchable in the "where" step."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carto.importers.base import ImportFailed
from carto.services.places import streets_load


class Command(BaseCommand):
    help = (
        "Replace the streets by those named in a PMTiles basemap (OpenMapTiles schema, `make basemap`) and"
        " rebuild the places search's names; a failure changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", type=Path, default=None, help="defaults to CARTO_BASEMAP_PMTILES"
        )

    def handle(self, *args, path: Path | None, **options):
        path = path or (Path(settings.CARTO_BASEMAP_PMTILES) if settings.CARTO_BASEMAP_PMTILES else None)
        if path is None:
            raise CommandError("no basemap: give its path or set CARTO_BASEMAP_PMTILES (see make basemap)")
        try:
            summary, names = streets_load(path=path)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(summary))
        self.stdout.write(f"place names: {names} searchable")
