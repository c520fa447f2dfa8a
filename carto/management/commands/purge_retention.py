"""Apply the retention rules: exact locations of long-closed pins and old IP hashes are forgotten."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from carto.services.accounts import retention_purge


class Command(BaseCommand):
    help = "Replace exact locations of pins closed more than CARTO_RETENTION_DAYS ago, blank old IP hashes."

    def handle(self, *args, **options):
        summary = retention_purge(now=timezone.now())
        self.stdout.write(
            f"{summary.locations_purged} exact locations purged, {summary.ip_hashes_blanked} IP hashes blanked"
        )
