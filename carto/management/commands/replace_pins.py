"""Place every pin again in its commune, EPT, arrondissement and QPV (after a territory import)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from carto.services.placement import pins_replace


class Command(BaseCommand):
    help = "Place every pin again from its exact location (batches of 20,000, with progress)."

    def handle(self, *args, **options):
        progress = self.stdout.write if options["verbosity"] > 0 else None
        pins_replace(progress=progress)
