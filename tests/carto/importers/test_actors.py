from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from frictionless import Resource, Schema

from carto.exports.actors import actors_write_csv
from carto.importers.actors import belleville_actors_import, mediation_places_import
from carto.importers.base import ImportFailed
from carto.models import Actor

pytestmark = pytest.mark.django_db


def test_actors_keep_the_schema_services_and_are_attached_to_their_commune():
    actor = Actor.objects.get(name="REGIE DE QUARTIER DU BLANC-MESNIL")
    assert actor.commune.code == "93007"
    assert "Maîtrise des outils numériques du quotidien" in actor.services
    assert actor.horaires.startswith("Mo-Fr")


def test_the_code_wins_over_a_misplaced_point():
    # Known bad point in the source: 24 rue de Paradis (10e) is placed in the 12e.
    actor = Actor.objects.get(name="ICF LA SABLIERE SA D'HLM")
    assert actor.arrondissement.code == "75110"


def test_belleville_actors_without_coordinates_are_kept_and_flagged_not_located():
    amandiers = Actor.objects.get(name="Amandiers Connexion")
    assert amandiers.location is None and not amandiers.is_located
    assert amandiers.arrondissement.code == "75120"
    located = Actor.objects.get(name="Belleville Citoyenne Maison du Numérique")
    assert located.is_located and located.arrondissement.code == "75120"


def test_the_export_validates_against_the_national_schema(data_dir, tmp_path):
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        count = actors_write_csv(Actor.objects.order_by("source_id"), handle)
    assert count == Actor.objects.count() == 479 + 32
    schema = Schema.from_descriptor(json.loads((data_dir / "mediation_numerique_schema.json").read_text()))
    report = Resource(path="export.csv", basepath=str(tmp_path), schema=schema).validate()
    errors = [(e.type, e.note) for task in report.tasks for e in task.errors][:5]
    assert report.valid, errors


def test_the_export_round_trips_the_imported_row(data_dir):
    buffer = io.StringIO()
    actors_write_csv(Actor.objects.filter(source_id="62711760da550c06ed3690fb"), buffer)
    exported = next(csv.DictReader(io.StringIO(buffer.getvalue())))
    with (data_dir / "lieux_mediation_numerique_idf.csv").open(encoding="utf-8") as handle:
        original = next(r for r in csv.DictReader(handle) if r["id"] == "62711760da550c06ed3690fb")
    for column in ("nom", "code_insee", "adresse", "horaires", "services", "frais_a_charge", "date_maj"):
        assert exported[column] == original[column]
    assert float(exported["latitude"]) == pytest.approx(float(original["latitude"]), abs=1e-6)


def test_importing_actors_twice_changes_nothing(data_dir):
    summary = mediation_places_import(path=data_dir / "lieux_mediation_numerique_idf.csv")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 479)
    summary = belleville_actors_import(path=data_dir / "actors_belleville.csv")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 32)


def _broken_copy(data_dir, tmp_path, old: str, new: str):
    path = tmp_path / "lieux.csv"
    shutil.copy(data_dir / "lieux_mediation_numerique_idf.csv", path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_coordinates_outside_ile_de_france_are_refused_with_the_row_and_nothing_imported(data_dir, tmp_path):
    path = _broken_copy(data_dir, tmp_path, ",48.9366,2.4622,", ",43.4929,-1.4748,")  # Bayonne
    Actor.objects.filter(source_id="62711760da550c06ed3690fb").update(name="before")
    with pytest.raises(ImportFailed, match=r"lieux.csv, row 3: coordinates outside Île-de-France"):
        mediation_places_import(path=path)
    assert Actor.objects.get(source_id="62711760da550c06ed3690fb").name == "before"


def test_an_unknown_commune_code_in_a_metropole_department_is_refused(data_dir, tmp_path):
    path = _broken_copy(data_dir, tmp_path, ",93150,93007,", ",93150,93999,")
    with pytest.raises(ImportFailed, match=r"row 3: unknown commune code '93999'"):
        mediation_places_import(path=path)
