"""Learn a new version of the clustering transform from the labelled set and curators' decisions."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from carto.clustering import embeddings
from carto.services.clustering_fit import clustering_fit, default_fit_write


class Command(BaseCommand):
    help = (
        "Refit the whitening of e5 vectors from a labelled set (default fixtures/clustering_labelled.json)"
        " plus every curator decision; the next `recluster` uses the new version."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--labelled", type=Path, default=embeddings.LABELLED, help="labelled-set JSON file"
        )
        parser.add_argument(
            "--write-default",
            action="store_true",
            help="write the shipped default (carto/clustering/e5_fit.npz) from the labelled set alone",
        )

    def handle(self, *args, **options):
        if options["write_default"]:
            self.stdout.write(f"wrote {default_fit_write(path=options['labelled'])}")
            return
        progress = self.stdout.write if options["verbosity"] > 0 else None
        fit = clustering_fit(path=options["labelled"], progress=progress)
        self.stdout.write(f"clustering fit v{fit.pk} stored")
