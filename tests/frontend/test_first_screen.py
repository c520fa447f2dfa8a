"""The first screen on a slow phone: the whole pin flow before MapLibre has arrived, and compressed answers.

MapLibre GL JS (a third-party library) is held back by the test, as a slow 3G link would; the page, our API
and the database answer for real. The compression test runs a server that serves static files as `make run`
does: through the middleware (whitenoise from the finders, then GZipMiddleware).
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.request

import pytest
from django.contrib.gis.geos import Point

from carto.models import Pin
from tests.frontend.conftest import PHONE
from tests.frontend.test_resident_flow import PARIS_20E, choose_what, place_map, send

pytestmark = pytest.mark.browser

MAPLIBRE = "**/vendor/maplibre-gl/maplibre-gl.js"
RUE_DE_BELLEVILLE = (2.3775, 48.8715)  # in the QPV Grand Belleville, 90 m from the metro
MAP_IDLE = """() => new Promise((resolve) => {
  const map = window.cartoMap;
  if (map.loaded() && map.areTilesLoaded()) return resolve(true);
  map.once("idle", () => resolve(true));
})"""
NO_MAPLIBRE = "() => window.maplibregl === undefined && window.cartoMap === undefined"


class HeldBack:
    """Holds every request for maplibre-gl.js until released, as a slow network would."""

    def __init__(self, context) -> None:
        self.routes = []
        context.route(MAPLIBRE, self._hold)

    def _hold(self, route) -> None:
        self.routes.append(route)  # neither continued nor answered: the request waits

    def release(self) -> None:
        while self.routes:
            self.routes.pop().continue_()


@pytest.fixture
def slow_phone(browser, server, committed_db):
    """A phone at the rue de Belleville (its position is the outside world) whose MapLibre has not arrived."""
    context = browser.new_context(
        **PHONE,
        locale="fr-FR",
        base_url=server.url,
        geolocation={"longitude": RUE_DE_BELLEVILLE[0], "latitude": RUE_DE_BELLEVILLE[1]},
        permissions=["geolocation"],
    )
    held = HeldBack(context)
    yield context.new_page(), held
    held.release()
    context.close()


def open_flow(page) -> None:
    """Tap "+" as a resident does: it shows with the page and works as soon as the page's script has run."""
    deadline = time.monotonic() + 30
    while page.locator("#flow").is_hidden():
        assert time.monotonic() < deadline, "the flow never opened"
        page.locator("#add").tap()
        page.wait_for_timeout(100)


def test_a_need_is_pinned_from_my_position_while_maplibre_has_not_arrived(slow_phone, shot):
    page, held = slow_phone
    page.goto("/", wait_until="domcontentloaded")  # the window's load waits for MapLibre's script
    open_flow(page)
    assert page.evaluate(NO_MAPLIBRE)
    assert page.locator("#map-status").inner_text() == "Chargement de la carte…"

    # Where: my position moves the (stand-in) map, and what is near it is named.
    page.locator("#locate").tap()
    page.wait_for_function(
        "() => document.querySelector('#place-near').textContent"
        " === 'près de Belleville · M2 M11 · QPV Grand Belleville'"
    )
    page.locator('[data-step="where"] [data-action="next"]').tap()

    # What: every theme drawn from the inline sprite, no pictogram file asked for.
    button = page.locator('.theme[data-theme="logement"]')
    assert button.locator("use").get_attribute("href") == "#picto-logement"
    assert button.locator(".picto svg").bounding_box()["width"] == 40
    asked = page.evaluate("() => performance.getEntriesByType('resource').map((r) => r.name)")
    assert not [url for url in asked if "/pictograms/" in url and "logement" in url]
    shot(page, "first-screen-what-without-maplibre")
    choose_what(page, "logement", "need")
    page.locator("#pin-text").fill("Ascenseur en panne depuis trois semaines")
    send(page)
    assert page.evaluate(NO_MAPLIBRE)

    pin = Pin.objects.select_related("qpv").get()
    assert (pin.theme.slug, pin.kind, pin.text) == (
        "logement",
        "need",
        "Ascenseur en panne depuis trois semaines",
    )
    assert pin.location.transform(4326, clone=True).distance(Point(*RUE_DE_BELLEVILLE, srid=4326)) < 1e-5
    assert pin.qpv.name == "Grand Belleville"


def test_the_map_arrives_where_the_flow_is_and_then_the_where_step_uses_its_centre(slow_phone, server, shot):
    page, held = slow_phone
    with urllib.request.urlopen(f"{server.url}/api/places/?q=Montreuil") as response:  # noqa: S310 (test server)
        montreuil = json.load(response)["results"][0]
    page.goto("/", wait_until="domcontentloaded")  # the window's load waits for MapLibre's script
    open_flow(page)
    page.locator("#place-search").fill("Montreuil")
    page.locator('#place-results [role="option"]').first.wait_for()
    page.keyboard.press("Enter")
    assert page.evaluate(NO_MAPLIBRE)

    held.release()
    page.wait_for_function("() => window.cartoMap !== undefined")
    page.evaluate(MAP_IDLE)
    # The real map starts from the view the flow moved to (Montreuil's point), not the whole Métropole.
    lon, lat = page.evaluate("() => window.cartoMap.getCenter().toArray()")
    assert (round(lon, 5), round(lat, 5)) == (round(montreuil["lon"], 5), round(montreuil["lat"], 5))
    assert page.locator("#map-status").is_hidden()

    # Dragging the real map under the centre pin decides where the pin goes.
    place_map(page, *PARIS_20E)
    shot(page, "first-screen-where-after-maplibre")
    page.locator('[data-step="where"] [data-action="next"]').tap()
    choose_what(page, "mobilite", "need")
    page.locator("#pin-text").fill("Trottoir trop étroit")
    send(page)

    pin = Pin.objects.select_related("arrondissement").get()
    assert pin.arrondissement.code == "75120"
    assert pin.location.transform(4326, clone=True).distance(Point(*PARIS_20E, srid=4326)) < 1e-5


@pytest.fixture(scope="module")
def make_run_server(django_db_setup, django_db_blocker):
    """A live server whose static files go through the middleware, as under `make run` (runserver without
    DEBUG): the session's `server` answers them from Django's static handler, before any middleware."""
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", static_handler=lambda application: application)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"http://{thread.host}:{thread.port}"
        thread.terminate()


def fetch(url: str, *, gzip_ok: bool) -> tuple[str, bytes]:
    """(Content-Encoding, body as sent) of a GET, with or without Accept-Encoding: gzip."""
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the live test server)
    with urllib.request.urlopen(request) as response:  # noqa: S310 (the live test server)
        return response.headers.get("Content-Encoding", ""), response.read()


def test_the_page_its_scripts_styles_and_json_come_gzipped_as_under_make_run(browser, make_run_server):
    context = browser.new_context(**PHONE, locale="fr-FR", base_url=make_run_server)
    try:
        page = context.new_page()
        answers = []
        page.on("response", lambda response: answers.append(response))
        page.goto("/")
        page.wait_for_function("() => window.cartoMap !== undefined")
        page.evaluate(MAP_IDLE)
        # "other": the catalogue and the themes, asked for by the page's <link rel="preload">.
        kinds = {"document", "script", "stylesheet", "fetch", "other"}
        checked = {}
        for response in answers:
            if not response.url.startswith(make_run_server) or response.request.resource_type not in kinds:
                continue  # not MapLibre's worker, made from a blob: URL
            if response.status != 200:
                continue
            body = response.body()  # as the browser decoded it
            if len(body) < 200:  # GZipMiddleware leaves tiny answers (an empty tile) alone
                continue
            checked[response.url.removeprefix(make_run_server)] = response.headers.get("content-encoding")
        for url in ["/", "/static/frontend/app.js", "/static/frontend/flow.js", "/static/frontend/carto.css",
                    "/static/vendor/maplibre-gl/maplibre-gl.js", "/static/vendor/maplibre-gl/maplibre-gl.css",
                    "/static/frontend/i18n/fr.json", "/api/themes/", "/api/territories/?kind=commune"]:  # fmt: skip
            assert checked.get(url) == "gzip", (url, checked.get(url))
        assert {url: enc for url, enc in checked.items() if enc != "gzip"} == {}
    finally:
        context.close()


def test_vector_tiles_are_gzipped_once(make_run_server):
    # An orientation tile over Belleville at z12 (rail lines, stations, QPV outlines): some kilobytes.
    url = f"{make_run_server}/api/tiles/orientation/12/2075/1408.mvt"
    encoding, sent = fetch(url, gzip_ok=True)
    plain_encoding, plain = fetch(url, gzip_ok=False)
    assert (encoding, plain_encoding) == ("gzip", "")
    assert len(plain) > 200 and plain[:2] != b"\x1f\x8b"  # the tile itself is raw protobuf
    assert gzip.decompress(sent) == plain
