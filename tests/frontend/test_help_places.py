"""The card's "who can help": one entry per place, opening hours in words, tap-to-call, website, go there."""

from __future__ import annotations

import pytest

from carto.actor_places import is_shouted
from tests.factories import make_pin
from tests.frontend.helpers import tap_pin

pytestmark = pytest.mark.browser

RUE_DE_BELLEVILLE = (2.3848, 48.8718)  # rue de Belleville, Paris 20e
RIQUET = (2.3781, 48.8894)  # rue Riquet, Paris 19e: Espace 19 Numérique, with a phone and a website
NBSP = "\u00a0"


def open_card(page, pin) -> None:
    """Tap the pin at street zoom, as a finger would, and wait for its help list."""
    tap_pin(page, pin)
    page.wait_for_selector("#card-help:not([hidden])")


def test_a_wifi_need_lists_belleville_citoyenne_once_with_its_hours_in_words_and_a_way_there(phone, shot):
    pin = make_pin(
        *RUE_DE_BELLEVILLE, theme="equipement-connexion", text="Pas de wifi ni d'internet chez moi"
    )
    page = phone().new_page()
    open_card(page, pin)

    places = page.locator("#card-actors .actor-item")
    belleville = places.filter(has_text="Belleville Citoyenne")
    assert belleville.count() == 1  # imported twice, shown once
    assert belleville.locator(".actor-name").text_content() == "Belleville Citoyenne Maison du Numérique"
    assert belleville.locator(".actor-aka").text_content() == "Aussi : Association Belleville Citoyenne"
    assert belleville.locator(".actor-hours").text_content() == (
        f"Horaires : du mardi au vendredi, 10{NBSP}h–13{NBSP}h et 14{NBSP}h–18{NBSP}h"
    )
    assert belleville.locator(".actor-hours svg").get_attribute("data-icon") == "hours"
    go = belleville.locator("a.contact-go")
    assert go.text_content() == "S'y rendre"
    assert go.get_attribute("href").startswith(
        "geo:48.870767,2.381267?q=48.870767,2.381267(Belleville%20Citoyenne"
    )
    # Help places wear the map's mark; no name shouts in capitals.
    assert places.first.locator('.actor-dot svg[data-icon="help"]').count() == 1
    names = places.locator(".actor-name").all_text_contents()
    assert names and not [n for n in names if is_shouted(n)]
    belleville.scroll_into_view_if_needed()
    shot(page, "card-help-belleville-citoyenne")
    assert page.locator("#card img").count() == 0


def test_in_english_the_hours_are_english_and_the_phone_is_a_tap_to_call_link(phone, shot):
    pin = make_pin(*RIQUET, theme="se-former", text="Des ateliers pour apprendre l'ordinateur")
    page = phone(locale="en-GB").new_page()
    open_card(page, pin)

    espace = page.locator("#card-actors .actor-item").filter(has_text="Espace 19 Numérique")
    assert espace.count() == 1
    assert espace.locator(".actor-hours").text_content() == (
        f"Opening hours: Monday and Wednesday to Friday, 10{NBSP}AM–12:30{NBSP}PM and 2{NBSP}PM–5{NBSP}PM; "
        f"Tuesday, 10{NBSP}AM–12:30{NBSP}PM"
    )
    call = espace.locator("a.contact-phone")
    assert call.get_attribute("href") == "tel:+33188405265"
    assert call.text_content() == "Call +33188405265"
    site = espace.locator("a.contact-web")
    assert site.get_attribute("href").startswith("http")
    assert site.get_attribute("rel") == "noopener noreferrer"
    assert espace.locator("a.contact-go").text_content() == "Go there"
    # Every listed phone is a tel: link, every place a geo: link.
    items = page.locator("#card-actors .actor-item")
    assert items.locator("a.contact-go").count() == items.count()
    assert all(
        h.startswith("tel:+33")
        for h in page.eval_on_selector_all(
            "#card-actors a.contact-phone", "(links) => links.map((a) => a.getAttribute('href'))"
        )
    )
    espace.scroll_into_view_if_needed()
    shot(page, "card-help-english-call")
