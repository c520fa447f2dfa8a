"""Load (idempotently) every reference dataset: territories, QPV (list, contours, populations), IDFM lines and
stations, actors, themes, and the streets of the basemap when CARTO_BASEMAP_PMTILES is set."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from carto.importers.actors import belleville_actors_import, mediation_places_import
from carto.importers.base import ImportFailed
from carto.importers.qpv_contours import qpv_contours_import
from carto.importers.responses import responses_import
from carto.importers.streets import streets_import
from carto.importers.territories import qpv_list_import, qpv_populations_import, territories_import
from carto.importers.themes import themes_import
from carto.importers.transit import rail_lines_import, stations_import
from carto.roles import groups_ensure
from carto.services.cluster_rebuild import clusters_outdated, clusters_rebuild
from carto.services.placement import pins_replace
from carto.services.places import place_names_rebuild


class Command(BaseCommand):
    help = (
        "Load the real territories, QPV (list, contours, populations), IDFM lines and stations, local actors,"
        " themes, Grand Paris responses and the basemap's streets when CARTO_BASEMAP_PMTILES is set"
        " (idempotent); pins are placed again when boundaries changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None, help="defaults to CARTO_DATA_DIR")

    def handle(self, *args, data_dir: Path | None, **options):
        data_dir = data_dir or settings.CARTO_DATA_DIR
        progress = self._progress if options["verbosity"] > 1 else None
        try:
            summaries = [
                territories_import(data_dir=data_dir),
                qpv_list_import(data_dir=data_dir),
                qpv_contours_import(path=data_dir / "qpv2024_mgp.geojson"),
                qpv_populations_import(data_dir=data_dir),
                # After the territories: stations are marked inside the Métropole by carto_place.
                rail_lines_import(data_dir=data_dir),
                stations_import(data_dir=data_dir),
                themes_import(),
                mediation_places_import(
                    path=data_dir / "lieux_mediation_numerique_idf.csv", progress=progress
                ),
                belleville_actors_import(path=data_dir / "actors_belleville.csv"),
                responses_import(),
            ]
            if settings.CARTO_BASEMAP_PMTILES:  # after the territories: streets are placed by carto_place
                summaries.append(streets_import(path=Path(settings.CARTO_BASEMAP_PMTILES)))
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
        for summary in summaries:
            self.stdout.write(str(summary))
        if summaries[0].updated or summaries[2].updated:  # boundaries moved: pins are placed again
            pins_replace(progress=self.stdout.write)
        self.stdout.write(f"place names: {place_names_rebuild()} searchable")
        self.stdout.write(f"roles: {len(groups_ensure())} groups")
        if clusters_outdated():  # e.g. clusters from before the whitened average-link method
            self.stdout.write("clusters were built by an older clustering method: rebuilding them")
            self.stdout.write(str(clusters_rebuild(progress=self.stdout.write)))

    def _progress(self, done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            self.stdout.write(f"  {done}/{total}")
