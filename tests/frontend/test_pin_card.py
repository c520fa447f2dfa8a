"""The pin card opened from a tile feature: who can help near here, and how many people say the same elsewhere."""

from __future__ import annotations

import pytest

from carto.models import PinCluster
from carto.services.linking import actors_near_pin
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin
from tests.frontend.helpers import tap_pin
from tests.jobs import jobs_done

pytestmark = pytest.mark.browser

PRINTING = "Pas d'endroit pour imprimer mes papiers CAF"


def test_the_card_of_a_printing_need_in_belleville_shows_who_can_help_and_the_cluster(phone, shot):
    pin = make_pin(*BELLEVILLE, text=PRINTING)
    make_pin(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF")
    make_pin(*VILLENEUVE_LA_GARENNE, text="Pas d'imprimante pour mes papiers CAF")
    expected = [item.place.name for item in actors_near_pin(pin)]  # one per place, in normal case
    assert expected, "the shared data has actors near Belleville"
    # Clustered by the job worker after each pin's commit: the same need in 3 communes is one cluster.
    jobs_done()
    cluster = PinCluster.objects.select_related("cluster").get(pin=pin).cluster
    assert (cluster.pin_count, cluster.territory_count) == (3, 3), (
        "the same need in 3 communes is one cluster"
    )

    page = phone().new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tap_pin(page, pin)

    assert page.locator("#card-text").text_content() == PRINTING
    page.wait_for_selector("#card-help:not([hidden])")
    assert page.locator("#card-help-title").text_content() == "Qui peut aider près d'ici"
    names = page.locator("#card-actors .actor-name").all_text_contents()
    assert names == expected
    first = page.locator("#card-actors .actor-item").first
    assert first.locator(".actor-where").text_content().startswith("à ")
    assert first.locator(".services li").count() >= 1
    page.locator("#card-help").scroll_into_view_if_needed()
    shot(page, "card-who-can-help")

    # The sentence comes from the pin detail's own `cluster` (the real API answer, nothing rewritten).
    assert page.locator("#card-cluster").is_visible()
    people = cluster.pin_count + cluster.support_count
    assert (
        page.locator("#card-cluster").text_content()
        == f"{people} personnes dans 3 communes disent la même chose"
    )
    page.locator("#card-cluster").scroll_into_view_if_needed()
    shot(page, "card-cluster")

    # Where the others are: their communes in words, and their pins ringed on a map framed on all three.
    page.locator("#card-cluster-see").tap()
    page.wait_for_selector("#card-cluster-places:not([hidden])")
    assert page.locator("#card-cluster-places").text_content() == (
        "Aussi dit à : Bondy, Paris 11e, Villeneuve-la-Garenne"  # BELLEVILLE's point lies in the 11e
    )
    page.wait_for_function(
        "() => window.cartoMap.getSource('cluster-pins') && !window.cartoMap.isMoving()"
        " && window.cartoMap.queryRenderedFeatures({layers: ['cluster-pins']}).length === 3"
    )
    ringed = page.evaluate(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['cluster-pins']}).map((f) =>"
        " ({id: f.properties.id, xy: window.cartoMap.project(f.geometry.coordinates)}))"
    )
    assert sorted(r["id"] for r in ringed) == sorted(cluster.pin_links.values_list("pin_id", flat=True))
    # Every ringed pin is on screen, above the card.
    card_top = page.locator("#card").bounding_box()["y"]
    assert all(0 <= r["xy"]["y"] <= card_top for r in ringed), (ringed, card_top)
    shot(page, "card-cluster-where")
    page.locator("#card [data-action=close]").tap()
    page.wait_for_function(
        "() => window.cartoMap.queryRenderedFeatures({layers: ['cluster-pins']}).length === 0"
    )
    assert dialogs == []


def test_the_card_speaks_the_residents_language_and_says_when_nobody_is_near(phone):
    # A health need: no digital-inclusion service answers it, so nobody is listed, in English.
    pin = make_pin(*BELLEVILLE, theme="sante", text="Plus de médecin dans le quartier")
    page = phone(locale="en-GB").new_page()
    tap_pin(page, pin)
    page.wait_for_selector("#card-help:not([hidden])")
    assert page.locator("#card-help-title").text_content() == "Who can help near here"
    if not actors_near_pin(pin):
        assert (
            page.locator("#card-help-none").text_content() == "No help place found within 3 km for this need."
        )
    # Alone in its cluster: the pin detail's `cluster` is null, and the card says nothing of it.
    assert page.locator("#card-cluster").is_hidden()


def test_actors_of_an_unknown_pin_are_a_404_the_card_leaves_out(client, db):
    """Also puts a `db` test in any run of this module, so pytest-django sets up the test database (the
    browser tests only use committed_db, which pytest-django does not count as needing one)."""
    response = client.get("/api/pins/999999/actors/")
    assert response.status_code == 404


def test_the_card_names_each_place_once_and_counts_people_in_proper_plural_forms(phone):
    # Paris is both the commune and the EPT: "Paris · Paris" once read as a mistake.
    pin = make_pin(*BELLEVILLE, theme="logement", text="L'ascenseur est en panne")
    assert pin.commune.name == pin.ept.name == "Paris"
    page = phone().new_page()
    tap_pin(page, pin)
    # In Paris the arrondissement says the commune and the EPT: "Grand Belleville · Paris 20e".
    assert page.locator(
        "#card-place"
    ).text_content() == f"{pin.qpv.name} · {pin.arrondissement.name}".replace(" Arrondissement", "")
    # Nobody has said "me too" yet: the status alone, no "0 personne(s)".
    assert page.locator("#card-status").text_content() == "Reçu"

    page.locator("#card-support").tap()
    page.wait_for_selector("#card-support:has-text('Merci')")
    assert page.locator("#card-status").text_content() == "Reçu · 1 personne"
    # The same count in Arabic takes its own forms (one, two, few, many, other), none with a bracket.
    forms = page.evaluate(
        """async () => {
          const i18n = await import("/static/frontend/i18n.js");
          await i18n.setLanguage("ar");
          return [0, 1, 2, 3, 11, 100].map(i18n.peopleCount);
        }"""
    )
    assert forms == ["", "شخص واحد", "شخصان", "3 أشخاص", "11 شخصًا", "100 شخص"]
