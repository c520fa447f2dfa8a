"""Rebuild every cluster from the visible pins (deterministic), replaying curators' overrides."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from carto.services.cluster_rebuild import clusters_rebuild


class Command(BaseCommand):
    help = "Rebuild all clusters of pins in id order, keeping curators' merges, splits and renames."

    def handle(self, *args, **options):
        progress = self.stdout.write if options["verbosity"] > 0 else None
        summary = clusters_rebuild(progress=progress)
        self.stdout.write(str(summary))
