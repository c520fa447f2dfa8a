"""One entry per place (carto.actor_places): the same place imported twice, names in normal case."""

from __future__ import annotations

import pytest

from carto.actor_places import address_key, normal_case, places_of
from carto.models import Actor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("shouted", "normal"),
    [
        ("ASSOCIATION BELLEVILLE CITOYENNE", "Association Belleville Citoyenne"),
        ("ICF LA SABLIERE SA D'HLM", "ICF la Sabliere SA d'HLM"),
        ("COMMUNE DE BRY-SUR-MARNE", "Commune de Bry-sur-Marne"),
        ("CENTRE COMMUNAL D ACTION SOCIALE", "Centre Communal d'Action Sociale"),
        (
            "PSP ST QUENTIN EN YVELINES/FRANCE SERVICES SQY",
            "PSP Saint Quentin en Yvelines/France Services SQY",
        ),
        ("CHRS FROMENTIN", "CHRS Fromentin"),
        ("E.S.C.A.L.E.", "E.S.C.A.L.E."),
        ("AA92", "AA92"),
        ("Mm2O (Maison de la médiation numérique)", "Mm2O (Maison de la médiation numérique)"),
    ],
)
def test_a_name_in_capitals_is_put_in_normal_case_a_written_one_is_kept(shouted, normal):
    assert normal_case(shouted) == normal


@pytest.mark.parametrize(
    ("shouted", "normal"),
    [
        ("18 RUE BISSON", "18 rue Bisson"),
        ("11 ALL PIERRE DE MONTEREAU", "11 allée Pierre de Montereau"),
        ("PL EDMOND DE ROTHSCHILD", "Place Edmond de Rothschild"),
        ("24 AV PTE DE MONTMARTRE", "24 avenue Porte de Montmartre"),
        ("13 RUE DE L AVENIR", "13 rue de l'Avenir"),
    ],
)
def test_an_address_in_capitals_is_put_in_normal_case(shouted, normal):
    assert normal_case(shouted, address=True) == normal


def test_two_spellings_of_one_door_share_an_address_key_and_two_doors_do_not():
    assert address_key("18 RUE BISSON", "75020") == address_key("18-20 rue Bisson", "75020")
    assert address_key("142 AV JEAN JAURES", "93500") == address_key("142 JEAN JAURES", "93500")
    assert address_key("25 bis rue du 8 mai 1945", "78260") != address_key("25 rue du 8 mai 1945", "78260")
    assert address_key("16-20 rue des batignolles", "75017") != address_key(
        "18-20 rue des Batignolles", "75017"
    )
    assert address_key("Place des Fêtes", "75019") is None  # no number: not a door


def test_the_places_of_the_real_data_merge_duplicates_and_keep_apart_neighbours_on_a_bad_point():
    records = list(Actor.objects.located().order_by("id"))
    places = places_of(records)
    by_id = {r.source_id: p for p in places for r in p.records}
    # Belleville Citoyenne: the conseiller-numérique record and the Belleville document's copy.
    belleville = by_id["62d173849c289e06decee159"]
    assert belleville.name == "Belleville Citoyenne Maison du Numérique"
    assert belleville.value("horaires") == "Tu-Fr 10:00-13:00,14:00-18:00"
    # 24 rue de Paradis (10e) was published on the point of 53 rue Nationale (13e): two places.
    sabliere = next(p for p in places if "Sabliere" in p.name)
    assert not any("Pluriculturels" in n for n in [sabliere.name, *sabliere.other_names])
    # Each record is in exactly one place, and merging only ever shrinks the list.
    assert sum(len(p.records) for p in places) == len(records)
    assert len(records) - 60 < len(places) < len(records)
