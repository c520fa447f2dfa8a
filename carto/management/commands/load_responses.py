"""Load the Grand Paris responses fixture (safe to run again)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from carto.importers.base import ImportFailed
from carto.importers.responses import RESPONSES_FIXTURE, responses_import


class Command(BaseCommand):
    help = "Upsert the Grand Paris responses from fixtures/responses.json on their slug."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=RESPONSES_FIXTURE)

    def handle(self, *args, path: Path, **options):
        try:
            summary = responses_import(path=path)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(summary))
