"""Streets imported from a PMTiles basemap that PostGIS cut (tests/basemaps.py): placed, merged, replaced."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.core.management import call_command
from django.core.management.base import CommandError

from carto.importers.base import ImportFailed
from carto.importers.streets import streets_import
from carto.models import PlaceName, Street
from carto.services.places import streets_load
from tests.basemaps import STREETS, write_street_basemap

pytestmark = pytest.mark.django_db

VERSAILLES = {  # Yvelines: outside the Métropole, no pin can be placed there
    "name": "Rue des Réservoirs",
    "latin": None,
    "class": "tertiary",
    "wkt": "LINESTRING(2.1190 48.8060, 2.1230 48.8060)",
}


@pytest.fixture
def basemap(tmp_path):
    return write_street_basemap(tmp_path / "streets.pmtiles")


def streets() -> dict[tuple[str, str], Street]:
    """The streets by (name, commune or arrondissement code)."""
    rows = Street.objects.select_related("commune", "arrondissement")
    return {(s.name, (s.arrondissement or s.commune).code): s for s in rows}


def test_each_street_lands_in_its_commune_and_arrondissement_from_name_or_name_latin(basemap):
    summary = streets_import(path=basemap)
    assert summary.created == 3 and summary.tiles > 0 and summary.segments >= 3
    found = streets()
    assert set(found) == {
        ("Allée des Essais", "75116"),  # `name`
        ("Route des Tests", "75116"),  # `name:latin` alone, as tilemaker 2.2 writes it
        ("Allée des Essais", "92012"),  # the homonym in Boulogne-Billancourt
    }
    assert found[("Route des Tests", "75116")].commune.code == "75056"  # Paris, its 16e
    assert found[("Allée des Essais", "92012")].arrondissement is None


def test_a_street_cut_into_tiles_is_one_line_again_where_the_basemap_drew_it(basemap):
    streets_import(path=basemap)
    route = streets()[("Route des Tests", "75116")]
    assert route.geometry.srid == 2154
    # Cut by the z14 tiles and their shared buffers: one line again, not the pieces nor their overlaps.
    assert route.geometry.num_geom == 1
    drawn = GEOSGeometry(f"SRID=4326;{STREETS[1]['wkt']}").transform(2154, clone=True)
    assert route.geometry.length == pytest.approx(drawn.length, abs=2)  # 667 m
    # Where it was drawn, to the grid of z14 tile coordinates (0.4 m here) and the transforms.
    assert drawn.buffer(1).contains(route.geometry) and route.geometry.buffer(1).contains(drawn)


def test_a_new_import_replaces_the_streets_and_keeps_their_codes(tmp_path, basemap):
    streets_load(path=basemap)
    codes = {key: s.code for key, s in streets().items()}
    streets_load(path=basemap)  # the same basemap again: the same streets, the same codes
    assert {key: s.code for key, s in streets().items()} == codes
    assert PlaceName.objects.filter(kind="street").count() == 3
    smaller = write_street_basemap(tmp_path / "smaller.pmtiles", streets=STREETS[1:2])
    streets_load(path=smaller)
    assert set(streets()) == {("Route des Tests", "75116")}
    assert list(PlaceName.objects.filter(kind="street").values_list("name", flat=True)) == ["Route des Tests"]


def test_streets_outside_the_metropole_are_left_out(tmp_path):
    path = write_street_basemap(
        tmp_path / "versailles.pmtiles",
        streets=[*STREETS[:1], VERSAILLES],
        bounds=(2.119, 48.806, 2.258, 48.863),
    )
    streets_import(path=path)
    assert set(streets()) == {("Allée des Essais", "75116")}


def test_a_file_that_is_no_basemap_changes_nothing(tmp_path, basemap):
    streets_import(path=basemap)
    junk = tmp_path / "junk.pmtiles"
    junk.write_bytes(b"not a pmtiles file" * 10)
    with pytest.raises(ImportFailed, match="junk.pmtiles"):
        streets_import(path=junk)
    with pytest.raises(ImportFailed, match="file not found"):
        streets_import(path=tmp_path / "missing.pmtiles")
    assert len(streets()) == 3


def test_import_streets_reads_the_configured_basemap_and_makes_it_searchable(basemap, settings, capsys):
    settings.CARTO_BASEMAP_PMTILES = str(basemap)
    call_command("import_streets")
    out = capsys.readouterr().out
    assert "streets: 3 from" in out and "searchable" in out
    assert PlaceName.objects.filter(kind="street", name="Route des Tests").exists()


def test_import_streets_without_a_basemap_says_how_to_give_one(settings):
    settings.CARTO_BASEMAP_PMTILES = ""
    with pytest.raises(CommandError, match="CARTO_BASEMAP_PMTILES"):
        call_command("import_streets")


def test_load_all_imports_the_streets_when_a_basemap_is_configured(basemap, settings):
    settings.CARTO_BASEMAP_PMTILES = str(basemap)
    call_command("load_all", verbosity=0)
    assert len(streets()) == 3
    assert PlaceName.objects.filter(kind="street").count() == 3
