from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from carto.geo import to_storage
from carto.importers.base import ImportFailed
from carto.importers.qpv_contours import qpv_contours_import
from carto.models import Territory
from carto.services.placement import pins_replace
from carto.sql.placement import place_point
from tests.factories import make_pin

pytestmark = pytest.mark.django_db
SQUARES = Path(__file__).parent.parent.parent / "fixtures" / "qpv_contours_test.geojson"


def test_parts_of_a_qpv_are_merged_into_one_multipolygon_and_others_skipped():
    summary = qpv_contours_import(path=SQUARES)
    amandiers = Territory.objects.get(code="QN07520M")
    assert amandiers.geometry is not None
    assert amandiers.geometry.area == pytest.approx(2 * 293 * 334, rel=0.05)  # two ~290 m × 330 m squares
    assert summary.updated == 1
    assert summary.skipped["not a QPV of the Métropole"] == 1


def test_a_point_inside_an_imported_contour_is_placed_in_that_qpv():
    qpv_contours_import(path=SQUARES)
    placement = place_point(to_storage(Point(2.3900, 48.8635, srid=4326)))
    assert Territory.objects.get(pk=placement.qpv_id).code == "QN07520M"


def test_without_network_the_command_fails_clearly_and_changes_nothing():
    before = Territory.objects.of_kind("qpv").filter(geometry__isnull=False).count()
    with pytest.raises(CommandError, match="could not download the QPV contours.*nothing was changed"):
        call_command("import_qpv_contours", "http://127.0.0.1:9/qpv.geojson")
    assert Territory.objects.of_kind("qpv").filter(geometry__isnull=False).count() == before


def test_a_feature_without_code_rolls_back_the_whole_import(tmp_path):
    before = Territory.objects.get(code="QN07520M").geometry
    broken = SQUARES.read_text().replace('"code_qp": "QN06401I", ', "")
    (tmp_path / "broken.geojson").write_text(broken)
    with pytest.raises(ImportFailed, match="row 3: feature without code_qp"):
        qpv_contours_import(path=tmp_path / "broken.geojson")
    assert Territory.objects.get(code="QN07520M").geometry.equals_exact(before, 0.01)


def test_a_file_of_another_code_set_is_refused_and_changes_nothing(tmp_path):
    before = Territory.objects.get(code="QN07520M").geometry
    old_codes = SQUARES.read_text().replace("QN07520M", "QP075020").replace("QN06401I", "QP064001")
    (tmp_path / "qpv2015.geojson").write_text(old_codes)
    with pytest.raises(ImportFailed, match="no QPV 2024 code of the Métropole"):
        qpv_contours_import(path=tmp_path / "qpv2015.geojson")
    assert Territory.objects.get(code="QN07520M").geometry.equals_exact(before, 0.01)


def test_an_invalid_contour_is_refused_not_reshaped(tmp_path):
    data = json.loads(SQUARES.read_text())
    feature = next(f for f in data["features"] if f["properties"]["code_qp"] == "QN07520M")
    ring = (
        feature["geometry"]["coordinates"][0][0]
        if feature["geometry"]["type"] == "MultiPolygon"
        else feature["geometry"]["coordinates"][0]
    )
    ring[1], ring[2] = ring[2], ring[1]  # a bow tie: the ring crosses itself
    (tmp_path / "bowtie.geojson").write_text(json.dumps(data))
    with pytest.raises(ImportFailed, match="invalid geometry"):
        qpv_contours_import(path=tmp_path / "bowtie.geojson")


# --- the real contours, loaded by load_all from CARTO_DATA_DIR --------------------------------------------

GOUTTE_DOR = (2.3560, 48.8850)  # rue Polonceau, Paris 18e: inside QN07511M Goutte d'Or
# Inside the 367 m² where QN09314M and QN09371N overlap (the shared contours are rounded to ~10 m).
OVERLAP = (2.491725, 48.908200)


def test_load_all_serves_the_175_qpv_with_contour_and_population():
    qpv = Territory.objects.of_kind("qpv")
    assert qpv.count() == 175
    assert not qpv.filter(geometry__isnull=True).exists()
    assert not qpv.filter(population__isnull=True).exists()
    assert Territory.objects.get(code="QN07511M").population == 9331


def test_a_pin_in_la_goutte_dor_is_counted_in_its_qpv_and_named_by_the_api(client):
    pin = make_pin(*GOUTTE_DOR, theme="logement", text="Ascenseur en panne rue Polonceau")
    assert pin.qpv.code == "QN07511M" and pin.commune.code == "75056"
    body = client.get(f"/api/pins/{pin.pk}/").json()["properties"]["territories"]["qpv"]
    assert body == {"code": "QN07511M", "name": "Goutte D'Or"}


def test_a_pin_where_two_qpv_overlap_goes_to_one_the_lowest_code():
    pin = make_pin(*OVERLAP, theme="logement", text="Pas d'eau chaude depuis une semaine")
    assert pin.qpv.code == "QN09314M"


def test_pins_placed_before_the_contours_get_their_qpv_when_they_arrive():
    goutte = Territory.objects.get(code="QN07511M")
    contour = goutte.geometry
    Territory.objects.filter(pk=goutte.pk).update(geometry=None)
    pin = make_pin(*GOUTTE_DOR, theme="logement", text="Ascenseur en panne rue Polonceau")
    assert pin.qpv is None
    Territory.objects.filter(pk=goutte.pk).update(geometry=contour)
    assert pins_replace(batch=7) == 1
    pin.refresh_from_db()
    assert pin.qpv_id == goutte.pk
    assert pins_replace() == 0  # idempotent
