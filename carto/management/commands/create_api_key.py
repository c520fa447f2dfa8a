"""Create an Open311 API key and print it once (only its hash is stored)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from carto.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for an Open311 client; the key is printed once and cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for (e.g. 'Ville de Bondy back-office')")

    def handle(self, *args, name: str, **options):
        key, raw = ApiKey.issue(name=name[:100])
        self.stderr.write(
            f"Created API key {key.pk} for {key.name!r}. Store it now; it will not be shown again."
        )
        self.stdout.write(raw)
