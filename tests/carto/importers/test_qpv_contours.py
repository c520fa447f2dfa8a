from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from carto.geo import to_storage
from carto.importers.base import ImportFailed
from carto.importers.qpv_contours import qpv_contours_import
from carto.models import Territory
from carto.sql.placement import place_point

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
    broken = SQUARES.read_text().replace('"code_qp": "QN06401I", ', "")
    (tmp_path / "broken.geojson").write_text(broken)
    with pytest.raises(ImportFailed, match="row 3: feature without code_qp"):
        qpv_contours_import(path=tmp_path / "broken.geojson")
    assert Territory.objects.get(code="QN07520M").geometry is None
