"""GET /api/pins/{id}/actors/ on the real lieux de médiation numérique: who can help near a pin."""

from __future__ import annotations

import pytest
from django.contrib.gis.measure import D

from carto.actor_places import SAME_PLACE_M, is_shouted
from carto.models import Actor
from carto.services.linking import ACTORS_ALWAYS_M, ACTORS_LIMIT
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

RUE_DE_BELLEVILLE = (2.3848, 48.8718)  # rue de Belleville, Paris 20e, ~280 m from 18 rue Bisson
RIQUET = (2.3781, 48.8894)  # rue Riquet, Paris 19e: the densest corner of the data (11 records within 500 m)
# The same association, imported twice: from the conseiller-numérique export, and from the Belleville
# resource document (geocoded from that very record).
BELLEVILLE_CITOYENNE = {"62d173849c289e06decee159", "belleville-belleville-citoyenne-maison-du-numerique-18-20-rue-bisson"}  # fmt: skip
NBSP = "\u00a0"


# The themes that places of help answer, at the four places of the checks below.
EVERY_THEME_OF_HELP = pytest.mark.parametrize(
    "theme", ["acceder-droits", "equipement-connexion", "se-former", "emploi"]
)
EVERY_PLACE = pytest.mark.parametrize(
    "place",
    [RUE_DE_BELLEVILLE, RIQUET, BELLEVILLE, BONDY],
    ids=["belleville-rue", "riquet", "belleville", "bondy"],
)


def actors(client, pin, **params) -> list[dict]:
    response = client.get(f"/api/pins/{pin.pk}/actors/", params)
    assert response.status_code == 200, response.content
    return response.json()["actors"]


def test_a_wifi_need_in_rue_de_belleville_lists_belleville_citoyenne_once_with_its_hours(client):
    # No place within 3 km lists "Accès internet et matériel informatique" (53 of the 479 places do, 48 of
    # them SIAO); the conseillers numériques' "Maîtrise des outils numériques du quotidien" is the
    # theme's third service: they help get a phone, a computer or a box going.
    pin = make_pin(
        *RUE_DE_BELLEVILLE, theme="equipement-connexion", text="Pas de wifi ni d'internet chez moi"
    )
    found = [a for a in actors(client, pin) if "Belleville Citoyenne" in a["name"]]

    assert len(found) == 1, "one entry for the place imported twice"
    place = found[0]
    assert place["name"] == "Belleville Citoyenne Maison du Numérique"  # the name a person wrote
    assert place["other_names"] == [
        "Association Belleville Citoyenne"
    ]  # was ASSOCIATION BELLEVILLE CITOYENNE
    assert set(place["source_ids"]) == BELLEVILLE_CITOYENNE
    assert place["distance_m"] <= ACTORS_ALWAYS_M
    # The hours come from the conseiller-numérique record (the Belleville one has none).
    assert place["horaires"] == "Tu-Fr 10:00-13:00,14:00-18:00"
    assert place["hours"] == f"du mardi au vendredi, 10{NBSP}h–13{NBSP}h et 14{NBSP}h–18{NBSP}h"


def test_the_hours_are_said_in_the_language_the_page_asks_for(client):
    pin = make_pin(*RUE_DE_BELLEVILLE, theme="se-former", text="Apprendre à me servir d'un ordinateur")
    by_lang = {
        lang: next(a for a in actors(client, pin, lang=lang) if "Belleville Citoyenne" in a["name"])["hours"]
        for lang in ("fr", "en", "ar", "zh")
    }
    assert by_lang["fr"] == f"du mardi au vendredi, 10{NBSP}h–13{NBSP}h et 14{NBSP}h–18{NBSP}h"
    assert by_lang["en"] == f"Tuesday to Friday, 10{NBSP}AM–1{NBSP}PM and 2{NBSP}PM–6{NBSP}PM"
    assert by_lang["ar"].startswith("من الثلاثاء إلى الجمعة")
    assert by_lang["zh"] == "星期二至星期五 10:00–13:00和14:00–18:00"
    # Without `lang` the page's default language, French.
    assert (
        next(a for a in actors(client, pin) if "Belleville Citoyenne" in a["name"])["hours"] == by_lang["fr"]
    )


def test_an_unknown_language_is_a_400_in_the_one_error_shape(client):
    pin = make_pin(*BELLEVILLE)
    response = client.get(f"/api/pins/{pin.pk}/actors/", {"lang": "de"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert "lang" in response.json()["error"]["fields"]


@EVERY_THEME_OF_HELP
@EVERY_PLACE
def test_no_place_offering_the_theme_within_500_m_is_missed(client, theme, place):
    pin = make_pin(*place, theme=theme, text="J'ai besoin d'aide près de chez moi")
    listed = actors(client, pin)
    listed_ids = {source_id for a in listed for source_id in a["source_ids"]}
    within = Actor.objects.located().filter(
        services__overlap=list(pin.theme.services),
        location__dwithin=(pin.public_location, D(m=ACTORS_ALWAYS_M - 50)),  # inside, whatever the rounding
    )
    assert {a.source_id for a in within} <= listed_ids
    # Past the walk, the list stops at ACTORS_LIMIT places, or one more: the nearest place offering the
    # theme's first service when no other listed place does.
    walk = [a for a in listed if a["distance_m"] <= ACTORS_ALWAYS_M]
    if len(listed) > max(ACTORS_LIMIT, len(walk)):
        assert len(listed) == max(ACTORS_LIMIT, len(walk)) + 1
        first = pin.theme.services[0]
        assert [a for a in listed if first in a["services"]] == [max(listed, key=lambda a: a["distance_m"])]
    # Every listed place offers one of the theme's services.
    assert all(set(a["services"]) & set(pin.theme.services) for a in listed)


def test_in_the_densest_corner_every_place_within_500_m_is_listed_even_past_five(client):
    pin = make_pin(*RIQUET, theme="se-former", text="Des ateliers pour apprendre l'ordinateur")
    listed = actors(client, pin)
    near = [a for a in listed if a["distance_m"] <= ACTORS_ALWAYS_M - 50]
    assert len(near) > ACTORS_LIMIT, [a["name"] for a in listed]


def test_the_same_place_imported_several_times_is_one_entry(client):
    # 71 rue Archereau holds five records: four "EMMAUS CONNECT FONDATEUR ABBE PIERRE" and WeTechCare.
    pin = make_pin(*RIQUET, theme="se-former", text="Des ateliers pour apprendre l'ordinateur")
    listed = actors(client, pin)
    emmaus = [a for a in listed if "Emmaus" in a["name"] or "Wetechcare" in a["name"]]
    assert len(emmaus) == 1
    assert emmaus[0]["name"] == "Emmaus Connect Fondateur Abbe Pierre"
    assert len(emmaus[0]["source_ids"]) == 5
    # No two entries stand at the same door under the same address.
    assert len({a["source_id"] for a in listed}) == len(listed)
    doors = [(a["address"].lower(), a["postcode"]) for a in listed]
    assert len(set(doors)) == len(doors), doors
    assert SAME_PLACE_M <= 50  # the same door, not the same block


def test_names_and_addresses_are_in_normal_case_and_contacts_are_usable(client):
    listed = []
    for place in (RIQUET, RUE_DE_BELLEVILLE, BONDY):
        pin = make_pin(*place, theme="acceder-droits", text="Aide pour mes papiers en ligne")
        listed += actors(client, pin)
    assert listed
    assert not [a["name"] for a in listed if is_shouted(a["name"])]
    assert not [a["address"] for a in listed if is_shouted(a["address"])]
    # Phones as published (+33… landlines), a website as a URL, a point to go to.
    assert all(a["telephone"].startswith("+33") for a in listed if a["telephone"])
    assert any(a["telephone"] for a in listed)
    assert all(a["site_web"].startswith("http") for a in listed if a["site_web"])
    assert all(len(a["location"]["coordinates"]) == 2 for a in listed)


@EVERY_THEME_OF_HELP
@EVERY_PLACE
def test_the_nearest_place_that_can_help_comes_first_then_the_best_match(client, theme, place):
    # A place 150 m away offering the theme's services once came after one 2.3 km away offering its first.
    pin = make_pin(*place, theme=theme, text="J'ai besoin d'aide près de chez moi")
    listed = actors(client, pin)
    distances = [a["distance_m"] for a in listed]
    assert distances == sorted(distances), [(a["name"], a["distance_m"]) for a in listed]
    # At the same (shown) distance, the place offering the theme's first service comes first.
    first = pin.theme.services[0]
    for a, b in zip(listed, listed[1:], strict=False):
        if a["distance_m"] == b["distance_m"]:
            assert (first in a["services"]) >= (first in b["services"]), (a["name"], b["name"])
