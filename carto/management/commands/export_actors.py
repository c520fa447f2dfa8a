"""Export actors as a CSV of the national schema "lieux de médiation numérique" v1.0.2."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from carto.exports.actors import actors_write_csv
from carto.models import Actor


class Command(BaseCommand):
    help = "Write actors as schema v1.0.2 CSV (to a file, or stdout)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None)
        parser.add_argument("--mgp-only", action="store_true", help="only actors in the Métropole")

    def handle(self, *args, output: Path | None, mgp_only: bool, **options):
        actors = Actor.objects.order_by("source_id")
        if mgp_only:
            actors = actors.filter(in_mgp=True)
        if output is None:
            actors_write_csv(actors, sys.stdout)
            return
        with output.open("w", newline="", encoding="utf-8") as handle:
            count = actors_write_csv(actors, handle)
        self.stderr.write(f"{count} actors written to {output}")
