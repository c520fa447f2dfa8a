"""Import the official QPV 2024 contours (ANCT GeoJSON) from a file or an URL."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from carto.importers.base import ImportFailed
from carto.importers.qpv_contours import DEFAULT_QPV_URL, fetch, qpv_contours_import
from carto.services.placement import pins_replace


class Command(BaseCommand):
    help = "Import QPV contours (ANCT 'QP2024 … WGS84' GeoJSON). Without network, fails and changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("source", nargs="?", default=DEFAULT_QPV_URL, help="file path or URL")

    def handle(self, *args, source: str, **options):
        try:
            summary = qpv_contours_import(path=fetch(source))
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(summary))
        if summary.updated:
            pins_replace(progress=self.stdout.write)
