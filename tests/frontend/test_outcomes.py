"""What became of a pin, as a pictogram and one word: sent, waiting for the network (and how many), held."""

from __future__ import annotations

import time

import pytest

from carto.models import Pin
from tests.frontend.helpers import QUEUE_LENGTH, open_home

pytestmark = pytest.mark.browser

PARIS_20E = (2.3900, 48.8680)  # rue des Pyrénées, Paris 20e
MONTREUIL = (2.4410, 48.8620)  # Croix-de-Chavaux, Montreuil


def pin_a_need(page, place, theme: str, text: str) -> None:
    """The three steps, then "send" (and "send mine anyway" if similar pins are proposed)."""
    page.locator("#add").tap()
    page.evaluate(f"() => window.cartoMap.jumpTo({{center: [{place[0]}, {place[1]}], zoom: 16}})")
    page.locator('[data-step="where"] [data-action="next"]').tap()
    page.locator(f'.theme[data-theme="{theme}"]').tap()
    page.locator('.kind[data-kind="need"]').tap()
    page.locator('[data-step="what"] [data-action="next"]').tap()
    page.locator("#pin-text").fill(text)
    page.locator('[data-step="words"] [data-action="send"]').tap()
    page.wait_for_selector('[data-step="done"]:not([hidden]), [data-step="similar"]:not([hidden])')
    if page.locator('[data-step="similar"]').is_visible():
        page.locator('[data-action="send-anyway"]').tap()
    page.wait_for_selector('[data-step="done"]:not([hidden]) #done-status[data-state]')


def outcome(page) -> dict:
    """The done step's outcome as a resident sees it: which pictogram, which word, the count badge."""
    return page.evaluate(
        """() => {
          const node = document.getElementById("done-status");
          const badge = node.querySelector(".outcome-count");
          const detail = document.getElementById("done-detail");
          return { state: node.dataset.state, icon: node.querySelector("svg").dataset.icon,
                   drawn: node.querySelector("svg path") !== null,
                   word: node.querySelector(".outcome-word").textContent,
                   badge: badge ? badge.textContent : null, detail: detail.hidden ? "" : detail.textContent };
        }"""
    )


def test_a_sent_pin_says_sent_with_a_tick_and_the_same_in_easy_read_mode(phone, shot):
    page = phone().new_page()
    open_home(page)
    pin_a_need(page, PARIS_20E, "logement", "L'ascenseur est en panne depuis 3 semaines")
    shot(page, "outcome-sent")
    assert outcome(page) == {
        "state": "sent",
        "icon": "sent",
        "drawn": True,
        "word": "Envoyé",
        "badge": None,
        "detail": "",
    }

    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#easy").tap()
    pin_a_need(page, MONTREUIL, "mobilite", "Le passage piéton est effacé")
    shot(page, "outcome-sent-easy")
    assert outcome(page)["word"] == "Envoyé"
    assert outcome(page)["icon"] == "sent"
    assert Pin.objects.count() == 2


def test_offline_pins_wait_with_how_many_wait_then_leave_when_the_network_returns(phone, shot):
    context = phone()
    page = context.new_page()
    open_home(page)
    context.set_offline(True)
    pin_a_need(page, PARIS_20E, "espace-public-proprete", "Dépôt sauvage au pied de l'immeuble")
    first = outcome(page)
    assert (first["state"], first["icon"], first["word"]) == ("queued", "queued", "En attente")
    assert first["badge"] == "1 en attente du réseau"
    assert first["detail"] == "Sera envoyé quand le réseau reviendra"

    page.locator('#flow [data-action="close"]').first.tap()
    pin_a_need(page, MONTREUIL, "securite", "La rue est trop sombre la nuit")
    shot(page, "outcome-queued-2")
    second = outcome(page)
    assert (second["state"], second["word"], second["badge"]) == (
        "queued",
        "En attente",
        "2 en attente du réseau",
    )

    # Easy-read mode keeps the pictogram and the word (only the sentence under them is plainer).
    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#easy").tap()
    pin_a_need(page, MONTREUIL, "mobilite", "Le bus 122 ne passe plus le soir")
    third = outcome(page)
    assert (third["icon"], third["word"], third["badge"]) == (
        "queued",
        "En attente",
        "3 en attente du réseau",
    )
    assert third["detail"] == "Pas de réseau. On l'enverra plus tard."

    # "My pins" says how many wait, with the same pictogram.
    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#mine-open").tap()
    page.wait_for_selector('#mine-queue[data-waiting="3"]')
    assert page.locator('#mine-queue svg[data-icon="queued"]').count() == 1
    assert page.locator("#mine-queue").text_content().startswith("3 en attente de réseau")
    assert Pin.objects.count() == 0

    context.set_offline(False)
    deadline = time.monotonic() + 30
    while page.evaluate(QUEUE_LENGTH):
        assert time.monotonic() < deadline, "the queue did not empty"
        time.sleep(0.2)
    assert Pin.objects.count() == 3


def test_waiting_pins_are_counted_in_arabic_plural_forms(phone):
    """Arabic counts have six forms (CLDR): two pins are a dual, three a "few" (بلاغات)."""
    page = phone().new_page()
    open_home(page)
    page.evaluate('async () => (await import("/static/frontend/i18n.js")).setLanguage("ar")')
    # The network drops every POST (the catalogue was fetched before): the pins wait on the phone.
    page.route(
        "**/api/pins/", lambda route: route.abort() if route.request.method == "POST" else route.continue_()
    )
    badges = []
    for place, theme, text in (
        (PARIS_20E, "logement", "المصعد معطل منذ ثلاثة أسابيع"),
        (MONTREUIL, "securite", "الشارع مظلم جدا في الليل"),
        (MONTREUIL, "mobilite", "الحافلة لا تمر في المساء"),
    ):
        pin_a_need(page, place, theme, text)
        badges.append(outcome(page)["badge"])
        page.locator('#flow [data-action="close"]').first.tap()
    assert badges == ["بلاغ واحد بانتظار الشبكة", "بلاغان بانتظار الشبكة", "3 بلاغات بانتظار الشبكة"]
    page.locator("#mine-open").tap()
    page.wait_for_selector('#mine-queue[data-waiting="3"]')
    assert page.locator("#mine-queue").text_content().startswith("3 بلاغات بانتظار الشبكة")
    assert Pin.objects.count() == 0


def test_a_pin_held_for_review_says_so_with_its_own_pictogram(phone, shot):
    # Two links: the spam score holds the pin for a moderator (carto.services.abuse), nobody sees it yet.
    page = phone().new_page()
    open_home(page)
    pin_a_need(page, PARIS_20E, "culture", "Concert gratuit http://example.org et http://example.net")
    shot(page, "outcome-held")
    held = outcome(page)
    assert (held["state"], held["icon"], held["word"]) == ("held", "held", "En vérification")
    assert held["detail"] == "Il sera visible après une vérification."
    assert Pin.objects.get().status == "pending"
    # One outcome at a time: the toast says the same, never "Envoyé" over "En vérification".
    assert page.locator("#toast").text_content() == "En vérification"

    # "My pins" shows the same pictogram and word for its status.
    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#mine-open").tap()
    status = page.locator("#mine-list .status-mark")
    status.wait_for()
    assert status.locator("svg").get_attribute("data-icon") == "held"
    assert status.text_content() == "En vérification"
    # Why, in the resident's language: the English sentence stays for the moderators.
    assert page.locator("#mine-list .status-reason").text_content() == (
        "Votre texte ressemble à de la publicité : une personne va le vérifier."
    )
    assert Pin.objects.get().status_reason == "Awaiting moderation: the text looks like spam."


@pytest.mark.parametrize(
    ("locale", "word", "here"),
    [("en-GB", "Sent", "It's here"), ("ar", "تم الإرسال", "هنا"), ("zh-CN", "已发送", "就是这里")],
)
def test_the_outcome_and_the_buttons_speak_the_residents_language(phone, locale, word, here):
    page = phone(locale=locale).new_page()
    open_home(page)
    page.locator("#add").tap()
    # The first screen says, with a pictogram, that a pin is public and may be checked.
    notice = page.locator("#public-notice")
    assert notice.is_visible()
    assert notice.locator("svg").get_attribute("data-icon") == "public"
    assert len(notice.text_content()) > 10
    # Every step's buttons carry a pictogram beside their word.
    button = page.locator('[data-step="where"] [data-action="next"]')
    assert button.text_content() == here
    assert button.locator('svg[data-icon="here"] path').count() >= 1
    page.locator('[data-step="where"] [data-action="cancel"]').tap()
    pin_a_need(page, PARIS_20E, "sante", "Plus de médecin dans le quartier")
    assert outcome(page)["word"] == word
    for action, icon in [("back", "back"), ("send", "send")]:
        assert (
            page.locator(f'[data-step="words"] [data-action="{action}"] svg[data-icon="{icon}"]').count() == 1
        )
    assert page.locator('[data-step="what"] [data-action="next"] svg[data-icon="next"]').count() == 1
    # Arrows point along the reading direction: mirrored in Arabic.
    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#add").tap()
    page.locator('[data-step="where"] [data-action="next"]').tap()
    transform = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-step="what"] svg[data-icon="next"]')).transform"""
    )
    assert transform.startswith("matrix(-1") == (locale == "ar"), transform
