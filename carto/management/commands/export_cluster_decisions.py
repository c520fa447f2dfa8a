"""Write curators' "same need" / "not the same need" decisions as a labelled-set JSON file."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from carto.services.clustering_fit import decisions_document


class Command(BaseCommand):
    help = "Export curators' clustering decisions in the labelled-set format (to stdout or --output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *args, **options):
        text = json.dumps(decisions_document(), ensure_ascii=False, indent=1)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text + "\n")
        else:
            self.stdout.write(text)
