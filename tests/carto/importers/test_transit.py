"""IDFM rail lines and stations, imported from the real files of CARTO_DATA_DIR."""

from __future__ import annotations

import json

import pytest

from carto.importers.base import ImportFailed
from carto.importers.transit import STATIONS_FILE, line_label, rail_lines_import, stations_import
from carto.models import PlaceName, RailLine, Station
from carto.services.places import place_names_rebuild

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("line", "label"),
    [("METRO 2", "M2"), ("METRO 11", "M11"), ("METRO 3bis", "M3bis"), ("RER A", "RER A"), ("TRAM 3b", "T3b"),
     ("TRAIN H", "Train H"), ("TER NORMANDIE", "TER"), ("GL", "Grandes lignes"), ("CDGVAL", "CDGVAL"),
     ("FUNICULAIRE MONTMART", "Funiculaire")],
)  # fmt: skip
def test_idfm_line_names_become_the_short_labels_of_the_signs(line, label):
    assert line_label(line) == label


def test_one_trace_per_line_with_its_official_colour():
    lines = {line.label: line for line in RailLine.objects.all()}
    assert len(lines) == 47  # 16 metro, 5 RER, 9 trains, 13 trams, CDGVAL, Orlyval, funicular, TER
    assert (lines["M2"].colour, lines["M2"].mode) == ("#0055c8", "METRO")
    assert lines["RER A"].colour == "#eb2132"
    assert lines["T3b"].colour == "#00ae41"
    # One stray segment of line J carries a wrong reference and grey: the line's majority wins.
    assert (lines["Train J"].colour, lines["Train J"].line_ref) == ("#cec73d", "C01739")
    assert lines["M2"].geometry.srid == 2154
    assert 12_000 < lines["M2"].geometry.length < 14_000  # Porte Dauphine to Nation: 12.4 km


def test_one_station_per_stop_area_with_its_lines_in_signage_order():
    assert Station.objects.count() == 748
    belleville = Station.objects.get(name="Belleville")
    assert (belleville.code, belleville.lines, belleville.line_colours) == (
        "71853",
        ["M2", "M11"],
        ["#0055c8", "#704b1c"],
    )
    assert belleville.label == "Belleville · M2 M11"
    gare_du_nord = Station.objects.get(code="478733")
    assert gare_du_nord.lines == ["M5", "RER B", "RER D", "RER E"]
    assert "Magenta" in gare_du_nord.aliases  # the RER E platform's name stays searchable


def test_names_are_cleaned_of_invisible_characters():
    assert Station.objects.filter(name="Porte de Champerret").exists()
    assert not Station.objects.filter(name__contains="\u200b").exists()


def test_stations_outside_the_metropole_are_kept_for_the_map_but_marked():
    assert Station.objects.get(name="Belleville").in_metropole
    assert not Station.objects.get(name="Massy-Palaiseau").in_metropole
    assert Station.objects.filter(in_metropole=True).count() == 629


def test_importing_the_same_files_again_changes_nothing(data_dir):
    before = {s.code: (s.name, s.lines, s.line_colours, s.location.coords) for s in Station.objects.all()}
    names_before = sorted(PlaceName.objects.values_list("kind", "code", "key"))
    lines = rail_lines_import(data_dir=data_dir)
    stations = stations_import(data_dir=data_dir)
    assert (lines.created, lines.updated, lines.unchanged, lines.removed) == (0, 0, 47, 0)
    assert (stations.created, stations.updated, stations.unchanged, stations.removed) == (0, 0, 748, 0)
    after = {s.code: (s.name, s.lines, s.line_colours, s.location.coords) for s in Station.objects.all()}
    assert after == before
    assert place_names_rebuild() == len(names_before)
    assert sorted(PlaceName.objects.values_list("kind", "code", "key")) == names_before


def test_a_newer_file_updates_stations_and_removes_those_it_no_longer_holds(data_dir, tmp_path):
    features = json.loads((data_dir / STATIONS_FILE).read_text(encoding="utf-8"))["features"]
    kept = [f for f in features if f["properties"]["stop_area_ref"] != 71469]  # Château Rouge closes
    for feature in kept:
        if feature["properties"]["stop_area_ref"] == 71853:
            feature["properties"]["name"] = "Belleville – Rue de Belleville"
    (tmp_path / STATIONS_FILE).write_text(json.dumps({"type": "FeatureCollection", "features": kept}))
    summary = stations_import(data_dir=tmp_path)
    assert (summary.created, summary.updated, summary.removed) == (0, 1, 1)
    assert not Station.objects.filter(code="71469").exists()
    assert Station.objects.get(code="71853").name == "Belleville – Rue de Belleville"


def test_a_station_without_a_stop_area_fails_naming_the_file_and_row_and_changes_nothing(data_dir, tmp_path):
    collection = json.loads((data_dir / STATIONS_FILE).read_text(encoding="utf-8"))
    del collection["features"][2]["properties"]["stop_area_ref"]
    (tmp_path / STATIONS_FILE).write_text(json.dumps(collection))
    with pytest.raises(
        ImportFailed, match=r"idfm_stations_mgp.geojson, row 3: a station needs stop_area_ref"
    ):
        stations_import(data_dir=tmp_path)
    assert Station.objects.count() == 748
