"""The resident's page on a bad network: a photo chosen just before "send", a stalled POST, a stalled return visit.

The network is the outside world here: it drops (Playwright's offline mode), stalls (a request held, never
answered; a proxy that stops forwarding) or the phone is slow (Chromium's CPU throttling). The page, our API
and the database answer for real.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time

import pytest
from PIL import Image

from carto.models import Pin
from frontend.static_version import static_version
from tests.frontend.conftest import PHONE
from tests.frontend.helpers import QUEUE_LENGTH
from tests.frontend.test_first_screen import HeldBack, open_flow
from tests.frontend.test_resident_flow import choose_what, wait_until

pytestmark = pytest.mark.browser

# The pin waiting in the outbox, its photo described (the Blob itself cannot leave the page).
QUEUED_PHOTO = """() => new Promise((resolve) => {
  const open = indexedDB.open("carto", 1);
  open.onsuccess = () => {
    const all = open.result.transaction("outbox").objectStore("outbox").getAll();
    all.onsuccess = async () => {
      open.result.close();
      const photo = all.result.length === 1 ? all.result[0].photo : null;
      if (!photo) return resolve(null);
      const bitmap = await createImageBitmap(photo);
      resolve({ type: photo.type, size: photo.size, width: bitmap.width, height: bitmap.height });
    };
  };
})"""


def camera_photo() -> bytes:
    """An 8-megapixel JPEG as a phone camera writes it (noise, so it weighs what a real one does)."""
    out = io.BytesIO()
    Image.effect_noise((3200, 2400), 30).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def to_words_step(page, text: str) -> None:
    open_flow(page)
    page.locator('[data-step="where"] [data-action="next"]').tap()
    choose_what(page, "logement", "need")
    page.locator("#pin-text").fill(text)


@pytest.fixture
def stand_in_phone(browser, server, committed_db):
    """A phone whose MapLibre has not arrived (the flow runs on the stand-in map, no service worker yet)."""
    context = browser.new_context(**PHONE, locale="fr-FR", base_url=server.url)
    held = HeldBack(context)
    yield context
    held.release()
    context.close()


def test_a_photo_chosen_just_before_send_leaves_with_the_pin_shrunk(stand_in_phone):
    context = stand_in_phone
    page = context.new_page()
    # A cheap phone: shrinking a camera photo takes it a while.
    context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto("/", wait_until="domcontentloaded")
    to_words_step(page, "Ascenseur en panne, photo du panneau")
    context.set_offline(True)  # no similar pins to fetch: "send" goes straight to the queue
    original = camera_photo()
    page.locator("#pin-photo").set_input_files(
        {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": original}
    )
    page.locator('[data-step="words"] [data-action="send"]').tap()  # at once, before the photo is shrunk
    page.wait_for_selector('#done-status[data-state="queued"]')

    photo = page.evaluate(QUEUED_PHOTO)
    assert photo is not None, "the pin was queued without its photo"
    assert photo["type"] == "image/jpeg"
    assert (photo["width"], photo["height"]) == (1600, 1200)
    assert photo["size"] < len(original) / 4


def test_a_pin_whose_post_stalls_is_shown_waiting_then_sent_once(stand_in_phone):
    context = stand_in_phone
    page = context.new_page()
    page.clock.install()  # the page's timers, run forward by the test instead of waiting for them
    stalled = []

    def stall(route):
        if route.request.method == "POST":
            stalled.append(route)  # the connection hangs: no answer, no error
        else:
            route.continue_()

    page.route("**/api/pins/", stall)
    page.goto("/", wait_until="domcontentloaded")
    to_words_step(page, "Plus de lumière dans le hall")
    page.locator('[data-step="words"] [data-action="send"]').tap()
    while not stalled:  # Playwright hands the request to `stall` while the test waits on the page
        page.wait_for_timeout(100)

    # However long the link stays silent, the resident is told the pin waits for the network.
    page.clock.fast_forward("01:00")
    page.wait_for_selector('#done-status[data-state="queued"]', timeout=10_000)
    assert page.evaluate(QUEUE_LENGTH) == 1
    assert Pin.objects.count() == 0

    # The link comes back: the queue's next attempt sends it, once.
    page.unroute("**/api/pins/")
    page.clock.fast_forward("00:06")
    wait_until(lambda: page.evaluate(QUEUE_LENGTH) == 0)
    assert Pin.objects.filter(text="Plus de lumière dans le hall").count() == 1


class StallingProxy:
    """A TCP relay to the live server that can stop answering (a phone between two cells): once stalled,
    connections, new or kept alive, are read and nothing comes back."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.stalled = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.stalled:
            while client.recv(65536):
                pass
            return
        upstream = socket.create_connection(self.target)
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.stalled:  # kept-alive connections stall too: their bytes go nowhere
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def test_a_return_visit_on_a_stalled_link_opens_from_the_phone_and_its_pictograms_work(
    browser, server, committed_db
):
    proxy = StallingProxy(server.url)
    context = browser.new_context(**PHONE, locale="fr-FR", base_url=proxy.url)
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.close()

        proxy.stalled = True  # every new connection now hangs
        page = context.new_page()
        started = time.monotonic()
        page.goto("/", wait_until="domcontentloaded", timeout=20_000)
        open_flow(page)
        page.locator('[data-step="where"] [data-action="next"]').tap()
        page.locator('.theme[data-theme="logement"] .label').wait_for()
        assert page.locator('.theme[data-theme="logement"] .label').inner_text() == "Logement"
        print(f"\nreturn visit on a stalled link: pictograms after {time.monotonic() - started:.1f} s")
    finally:
        context.close()
        proxy.close()


def test_the_service_worker_is_renewed_whenever_a_static_file_changes(tmp_path, client, db):
    (tmp_path / "frontend").mkdir()
    module = tmp_path / "frontend" / "flow.js"
    module.write_text("export const a = 1;\n")
    before = static_version(tmp_path)
    assert static_version(tmp_path) == before
    module.write_text("export const a = 22;\n")
    assert static_version(tmp_path) != before

    script = client.get("/sw.js").content.decode()
    assert f'const VERSION = "carto-{static_version()}";' in script


# Which of the four catalogues the service worker's cache holds.
CACHED_CATALOGUES = """async () => {
  const kept = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const lang of ["fr", "en", "ar", "zh"]) {
      if (await cache.match(`/static/frontend/i18n/${lang}.json`)) kept.push(lang);
    }
  }
  return kept.sort();
}"""


def test_the_offline_copy_keeps_the_residents_words_only_then_a_language_chosen_later(phone):
    context = phone(locale="fr-FR")
    page = context.new_page()
    page.goto("/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    # The other three languages' words are not downloaded for a resident who reads French.
    assert page.evaluate(CACHED_CATALOGUES) == ["fr"]

    page.locator("#lang").select_option("ar")
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")
    page.wait_for_function(f"({CACHED_CATALOGUES})().then((kept) => kept.includes('ar'))")

    context.set_offline(True)  # the language chosen online is there offline
    page.reload()
    page.wait_for_function("() => document.querySelector('#add').textContent.includes('أضف')")
    assert page.locator("html").get_attribute("dir") == "rtl"


@pytest.mark.parametrize(("locale", "sending"), [("fr-FR", "Envoi…"), ("ar", "جارٍ الإرسال…")])
def test_while_the_server_is_awaited_the_send_button_says_sending_and_takes_no_second_tap(
    browser, server, committed_db, locale, sending
):
    context = browser.new_context(**PHONE, locale=locale, base_url=server.url)
    maplibre = HeldBack(context)
    try:
        page = context.new_page()
        held = []
        page.route(
            "**/api/pins/",
            lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
        )
        page.goto("/", wait_until="domcontentloaded")
        to_words_step(page, "Les poubelles débordent")
        send = page.locator('[data-step="words"] [data-action="send"]')
        send.tap()
        while not held:  # the slow network: the POST has left, no answer yet
            page.wait_for_timeout(100)
        assert send.get_attribute("aria-busy") == "true"
        assert send.is_disabled()
        assert send.inner_text().strip() == sending

        held.pop().continue_()
        page.wait_for_selector('#done-status[data-state="sent"]')
        assert Pin.objects.filter(text="Les poubelles débordent").count() == 1
        assert send.get_attribute("aria-busy") is None
    finally:
        maplibre.release()
        context.close()
