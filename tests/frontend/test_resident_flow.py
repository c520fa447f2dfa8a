"""The resident's page on a phone: the 3-step flow, offline, similar first, languages, aidant mode, XSS."""

from __future__ import annotations

import json
import secrets
import struct
import time
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from carto.models import Pin, PinCluster, PinPhoto
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin
from tests.frontend.helpers import MAP_IDLE, QUEUE_LENGTH, open_home
from tests.jobs import jobs_done

pytestmark = pytest.mark.browser


def wait_until(condition, timeout: float = 30) -> None:
    """Poll the page until the condition holds (the queue flushes on the browser's own schedule)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def place_map(page, lon: float, lat: float, zoom: float = 16) -> None:
    """Stand-in for dragging the map until the fixed centre marker sits on the place."""
    page.evaluate(f"() => window.cartoMap.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    page.evaluate(MAP_IDLE)


def choose_what(page, theme: str, kind: str) -> None:
    page.locator(f'.theme[data-theme="{theme}"]').tap()
    page.locator(f'.kind[data-kind="{kind}"]').tap()
    page.locator('[data-step="what"] [data-action="next"]').tap()


def write_and_send(page, place: tuple[float, float], theme: str, text: str) -> None:
    """The three steps for a need at `place`, then "send" (which may open the similar step)."""
    page.locator("#add").tap()
    place_map(page, *place)
    page.locator('[data-step="where"] [data-action="next"]').tap()
    choose_what(page, theme, "need")
    page.locator("#pin-text").fill(text)
    page.locator('[data-step="words"] [data-action="send"]').tap()


def api_pin(base_url: str, **fields) -> dict:
    """A pin made by another phone through the API, as the page would make it."""
    body = {"client_uuid": str(uuid.uuid4()), "kind": "need", "language": "fr", **fields}
    request = urllib.request.Request(  # noqa: S310 (the live test server)
        f"{base_url}/api/pins/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Device-Token": secrets.token_hex(12)},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 (the live test server)
        return json.load(response)


PARIS_20E = (2.3900, 48.8680)  # rue des Pyrénées, Paris 20e (arrondissement 75120)
MONTREUIL = (2.4410, 48.8620)  # Croix-de-Chavaux, Montreuil (93048, EPT Est Ensemble)


def tiny_png() -> bytes:
    """A 4×4 red PNG, enough for the photo field (the page re-encodes it to JPEG)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def send(page, state: str = "sent") -> None:
    """Tap "send"; if similar pins nearby are proposed, choose to send one's own anyway."""
    page.locator('[data-step="words"] [data-action="send"]').tap()
    page.wait_for_selector('[data-step="done"]:not([hidden]), [data-step="similar"]:not([hidden])')
    if page.locator('[data-step="similar"]').is_visible():
        page.locator('[data-action="send-anyway"]').tap()
    page.wait_for_selector(f'[data-step="done"]:not([hidden]) #done-status[data-state="{state}"]')


def test_a_resident_pins_a_need_from_a_phone_in_three_steps(phone, shot):
    page = phone().new_page()
    open_home(page)
    shot(page, "01-home")
    started = time.monotonic()

    page.locator("#add").tap()
    assert page.evaluate("document.activeElement.textContent") == "Où ?"
    place_map(page, *PARIS_20E)
    shot(page, "02-where")
    page.locator('[data-step="where"] [data-action="next"]').tap()

    page.locator('.theme[data-theme="logement"]').wait_for()
    shot(page, "03-what")
    choose_what(page, "logement", "need")

    page.locator("#pin-text").fill("L'ascenseur est en panne depuis 3 semaines")
    shot(page, "04-words")
    send(page)
    elapsed = time.monotonic() - started
    shot(page, "05-sent")
    print(f"\nflow from first screen to 'sent': {elapsed:.1f} s")

    assert page.locator("#done-place").text_content() == "À Paris"
    pin = Pin.objects.select_related("theme", "commune", "ept", "arrondissement").get()
    assert pin.theme.slug == "logement"
    assert pin.kind == "need"
    assert pin.text == "L'ascenseur est en panne depuis 3 semaines"
    assert (pin.commune.code, pin.ept.code, pin.arrondissement.code) == ("75056", "T1", "75120")

    # "My pins" knows it, from this phone only.
    page.locator('#flow [data-action="close"]').first.tap()
    page.locator("#mine-open").tap()
    page.wait_for_selector(f'#mine-list [data-pin-id="{pin.id}"]')
    shot(page, "06-my-pins")
    assert "Reçu" in page.locator("#mine-list").text_content()


def test_without_words_the_theme_label_is_sent_in_the_residents_language(phone):
    page = phone(locale="en-GB").new_page()
    open_home(page)
    page.locator("#add").tap()
    place_map(page, *MONTREUIL)
    page.locator('[data-step="where"] [data-action="next"]').tap()
    choose_what(page, "mobilite", "proposal")
    send(page)

    pins = list(Pin.objects.select_related("commune", "ept"))
    assert len(pins) == 1, [(p.text, p.client_uuid, p.created_at, p.device_hash[:8]) for p in pins]
    pin = pins[0]
    assert (pin.text, pin.language, pin.kind) == ("Getting around", "en", "proposal")
    assert (pin.commune.code, pin.ept.code) == ("93048", "T8")


def test_a_pin_made_offline_with_a_photo_is_sent_once_when_the_network_returns(phone, shot):
    context = phone()
    page = context.new_page()
    open_home(page)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.locator("#add").tap()
    place_map(page, *PARIS_20E)
    page.locator('[data-step="where"] [data-action="next"]').tap()
    choose_what(page, "espace-public-proprete", "need")
    page.locator("#pin-text").fill("Dépôt sauvage au pied de l'immeuble")
    page.locator("#pin-photo").set_input_files(
        {"name": "dechets.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    page.wait_for_selector("#photo-name:not(:empty)")
    send(page, "queued")
    shot(page, "07-offline-queued")
    assert page.evaluate(QUEUE_LENGTH) == 1

    for _ in range(2):
        page.reload()
        page.wait_for_selector("#add")
        page.wait_for_function("() => window.cartoMap !== undefined")
    assert page.evaluate(QUEUE_LENGTH) == 1
    assert Pin.objects.count() == 0

    context.set_offline(False)
    wait_until(lambda: page.evaluate(QUEUE_LENGTH) == 0)
    assert Pin.objects.count() == 1
    assert PinPhoto.objects.filter(pin__text="Dépôt sauvage au pied de l'immeuble").count() == 1


FLOW_FRENCH = json.loads(
    (Path(__file__).resolve().parents[2] / "frontend/static/frontend/i18n/fr.json").read_text("utf-8")
)


def test_in_arabic_the_page_is_right_to_left_and_shows_no_french(phone, shot):
    page = phone(locale="ar").new_page()
    open_home(page)
    assert page.evaluate("[document.documentElement.dir, document.documentElement.lang]") == ["rtl", "ar"]
    # Mirrored: the "+" button sits on the left in Arabic (inline-end).
    box = page.locator("#add").bounding_box()
    assert box["x"] + box["width"] / 2 < 180

    page.locator("#add").tap()
    place_map(page, *PARIS_20E)
    screens = [page.locator("#flow").inner_text()]
    shot(page, "ar-02-where")
    page.locator('[data-step="where"] [data-action="next"]').tap()
    screens.append(page.locator("#flow").inner_text())
    shot(page, "ar-03-what")
    choose_what(page, "sante", "need")
    screens.append(page.locator("#flow").inner_text())
    shot(page, "ar-04-words")
    send(page)
    screens.append(page.locator("#flow").inner_text() + page.locator("header").inner_text())
    shot(page, "ar-05-sent")

    french = {v for k, v in FLOW_FRENCH.items() if len(v) > 3 and "{" not in v and k != "app.title"}
    visible = "\n".join(screens)
    assert [s for s in french if s in visible] == []
    assert Pin.objects.get().language == "ar"


def test_a_similar_pin_is_proposed_and_me_too_counts_once(phone, server, shot):
    existing = api_pin(
        server.url,
        theme="logement",
        text="Ascenseur en panne depuis trois semaines",
        lon=PARIS_20E[0],
        lat=PARIS_20E[1],
    )
    page = phone().new_page()
    open_home(page)
    write_and_send(page, PARIS_20E, "logement", "ascenseur en panne")

    card = page.locator(f'#similar-list [data-pin-id="{existing["id"]}"]')
    card.wait_for()
    shot(page, "08-similar")
    button = card.locator(".metoo")
    button.tap()
    page.wait_for_selector('#done-status[data-state="supported"]')
    shot(page, "09-supported")
    assert button.is_disabled()

    pin = Pin.objects.get()
    assert pin.id == existing["id"]
    assert pin.support_count == 1


BONDY_GARE = (2.4850, 48.8960)  # near the RER station, Bondy: the same commune as BONDY, 700 m away


@pytest.mark.parametrize(
    ("locale", "places", "expected"),
    [
        (
            "fr-FR",
            [BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE],
            "Ailleurs dans la Métropole : {n} personnes dans 3 communes disent la même chose",
        ),
        ("en-GB", [BONDY, BONDY_GARE], "Elsewhere in the Métropole: {n} people in 1 town say the same"),
    ],
    ids=["three-communes", "one-commune-in-english"],
)
def test_the_similar_step_says_how_many_say_the_same_elsewhere(phone, shot, locale, places, expected):
    texts = [
        "Pas d'endroit pour imprimer mes papiers CAF",
        "Nulle part pour imprimer mes papiers de la CAF",
        "Pas d'imprimante pour mes papiers CAF",
    ]
    pins = [make_pin(*place, text=text) for place, text in zip(places, texts, strict=False)]
    # Clustered by the job worker after each pin's commit: one cluster of the printing need.
    jobs_done()
    clusters = {PinCluster.objects.select_related("cluster").get(pin=p).cluster for p in pins}
    assert len(clusters) == 1
    cluster = clusters.pop()
    assert cluster.territory_count == (3 if len(places) == 3 else 1)

    # Montreuil is 4.5 km from the nearest of them: no twin nearby, only the same need elsewhere.
    page = phone(locale=locale).new_page()
    open_home(page)
    write_and_send(page, MONTREUIL, "acceder-droits", "Je ne trouve pas où imprimer mes papiers pour la CAF")

    page.wait_for_selector('[data-step="similar"]:not([hidden]) #similar-elsewhere:not([hidden])')
    people = cluster.pin_count + cluster.support_count
    assert page.locator("#similar-elsewhere").text_content() == expected.format(n=people)
    assert page.locator("#similar-list li").count() == 0
    assert page.locator("#similar-hint").is_hidden()
    shot(page, f"similar-elsewhere-{locale}")

    page.locator('[data-action="send-anyway"]').tap()
    page.wait_for_selector('[data-step="done"]:not([hidden]) #done-status[data-state="sent"]')
    assert Pin.objects.count() == len(pins) + 1


def test_an_aidant_needs_the_consent_box_and_enters_three_people_in_a_row(phone, server, browser, shot):
    aidant = User.objects.create_user(username="aidante", password="correct horse battery staple")
    aidant.groups.add(Group.objects.get_or_create(name="aidant")[0])
    page = phone().new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", "aidante")
    page.fill("#id_password", "correct horse battery staple")
    page.locator("button[type=submit]").tap()
    page.wait_for_url(f"{server.url}/")
    open_home(page)
    page.wait_for_function("() => document.querySelectorAll('#structure option').length > 1")

    themes = ["acceder-droits", "equipement-connexion", "se-former"]
    page.locator("#add").tap()
    for n, theme in enumerate(themes):
        place_map(page, *PARIS_20E)
        page.locator('[data-step="where"] [data-action="next"]').tap()
        choose_what(page, theme, "need")
        if n == 0:
            page.locator("#structure").select_option(index=1)
            page.locator('[data-step="words"] [data-action="send"]').tap()
            assert page.locator("#words-error").text_content() == "Cochez l'accord de la personne."
            assert Pin.objects.count() == 0
            shot(page, "10-aidant-consent-missing")
        page.locator("#consent").check()
        send(page)
        if n < 2:
            page.locator('[data-action="next-person"]').tap()
            assert not page.locator("#consent").is_checked()

    structure = page.locator("#structure").input_value()
    pins = Pin.objects.select_related("mediated_structure").order_by("id")
    assert [p.theme.slug for p in pins] == themes
    assert all(p.mediated_by_id == aidant.id and p.consent for p in pins)
    assert {p.mediated_structure.source_id for p in pins} == {structure}


XSS = "<img src=x onerror=alert(1)>"


def test_a_pin_text_with_markup_is_shown_as_text_and_runs_nothing(phone, server, shot):
    created = api_pin(server.url, theme="securite", text=XSS, lon=MONTREUIL[0], lat=MONTREUIL[1])
    lon, lat = created["geometry"]["coordinates"]
    page = phone().new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_home(page)
    place_map(page, lon, lat, zoom=18)
    page.wait_for_function(
        f"() => window.cartoMap.querySourceFeatures('pins').some((f) => f.properties.id === {created['id']})"
    )
    point = page.evaluate(f"() => window.cartoMap.project([{lon}, {lat}])")
    box = page.locator("#map").bounding_box()
    page.touchscreen.tap(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("#card:not([hidden])")
    shot(page, "11-card-xss")
    assert page.locator("#card-text").text_content() == XSS
    assert page.locator("#card img").count() == 0
    assert dialogs == []


def _blank_share(png: bytes, *, box: tuple[int, int, int, int]) -> float:
    """The share of pure white pixels in `box` (CSS pixels) of a screenshot (the map's fills are off-white,
    its background beige)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("L")
    scale = image.width / 360  # the phone's device pixel ratio
    histogram = image.crop(tuple(round(v * scale) for v in box)).histogram()
    return histogram[255] / sum(histogram)


def test_the_map_stays_drawn_above_the_where_sheet_and_the_search_field_above_its_buttons(phone):
    # Software compositing (no GPU, as on this machine) drew a blank copy of the scrolling sheet over the map's
    # top half, and a focused search field slid under the sheet's sticky buttons.
    page = phone().new_page()
    open_home(page)
    page.wait_for_function("() => window.cartoMap && window.cartoMap.getCanvas !== undefined")
    place_map(page, *PARIS_20E, zoom=13)
    page.wait_for_timeout(1000)  # the map drawn on screen before the resident taps "Ajouter"
    page.locator("#add").tap()
    page.wait_for_timeout(1000)  # the sheet settled and composited, as a resident sees it a moment later
    page.evaluate(MAP_IDLE)
    # The map between the top buttons and the sheet (the whole screen is captured: a clipped capture is
    # composited anew and never showed the fault).
    assert _blank_share(page.screenshot(), box=(0, 110, 360, 310)) < 0.2
    # Its pictograms are drawn, not characters a cheap phone's fonts may lack (an empty box instead).
    assert page.locator('#locate svg[data-icon="locate"] path').count() == 3
    assert page.locator('.field.photo svg[data-icon="photo"] path').count() == 2
    assert not page.locator("#flow").inner_text().count("◎")
    page.locator("#place-search").focus()
    field = page.locator("#place-search").bounding_box()
    buttons = page.locator('[data-step="where"] .nav').bounding_box()
    assert field["y"] + field["height"] <= buttons["y"]
