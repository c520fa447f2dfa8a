"""A resident's whole journey on a cheap phone and a slow network: first visit, a pin, a return visit, a drop.

    .venv/bin/python bench/phone_journey.py [--runs 3] [--requests]

Profile (Chrome DevTools' "Slow 3G", through Playwright's CDP session): a 360×740 touch screen,
400 kbit/s down and up, 400 ms round trip (Network.emulateNetworkConditions) and the CPU slowed ×4
(Emulation.setCPUThrottlingRate). The page is `/` served as `make run` serves it (`manage.py runserver`
started here, static files from whitenoise's finders, gzip by the middleware), on its own database
(CARTO_BENCH_DATABASE, default bench_phone: reference data only, the bench's pins deleted at the start).

Each run, in this order:
1. first visit (new browser context: empty HTTP cache, no service worker): a probe in the page taps the
   "Ajouter" pill as soon as a finger could, then "C'est ici"; "pictogram screen" is when the theme grid is
   drawn with its words in the resident's language; "map usable" is MapLibre idle with the commune outlines
   and every tile drawn. Then a need is pinned ("send → confirmed": the tap on send until the done step shows
   the server's answer, the similar pins request included);
2. return visit (same context, its service worker and HTTP cache): the same marks, then a pin with a phone
   photo (a 4032×3024 JPEG, chosen, then "send" tapped at once): upload bytes, whether the photo arrived;
3. network drop: on the return visit, the network goes away at the words step; "send" must say "waiting";
   back online, the time until the server has the pin, and how many POSTs it took (one pin, never two);
4. offline return visit: the whole context offline (service worker included), `/` opened again: is the
   pictogram screen there?
Baselines in the same run: the same first visit without throttling, and a bare static HTML page of the
same first screen (the pictogram sprite and the 16 themes' French words, gzip, served by a plain HTTP server
here) on the same profile: its first paint is what this network costs at the least.

Bytes are what Chromium counts on the wire (headers and encoded bodies, Playwright's request sizes) for
every request of the context, MapLibre's workers included; answers a service worker gave from its cache
cost nothing, its own fetches are counted (but not, as in bench/page_load.py, its bodiless re-reads of files
the HTTP cache already holds). Network emulation is set on the page's target: dedicated workers
(MapLibre's tiles) follow it, the service worker's own fetches are not slowed (their bytes are counted).
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import io
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_phone")
# One machine plays many phones: the per-network pin budget would refuse the bench's own pins.
os.environ.setdefault("CARTO_THROTTLE_IP_PER_HOUR", "100000")
os.environ.setdefault("CARTO_THROTTLE_DEVICE_PER_HOUR", "100000")
# Playwright's sync API runs an asyncio loop in this thread; the bench reads the pins it made with the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from bench.generate_pins import use_bench_database  # noqa: E402
from bench.page_load import CHROMIUM, PHONE, start_server  # noqa: E402
from bench.run_all import emit  # noqa: E402

# Chrome DevTools' "Slow 3G" preset: 400 ms, 400 kbit/s each way. DevTools takes bytes per second.
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
OFFLINE = {**SLOW_3G, "offline": True}
NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
CPU_SLOWDOWN = 4
TIMEOUT_MS = 180_000
GEOLOCATION = {"longitude": 2.3775, "latitude": 48.8715}  # rue de Belleville, Paris 20e

# Runs in the page before its own scripts: marks the moments (ms from navigation start), taps "Ajouter" and
# "C'est ici" as a resident would as soon as they work, and watches the done step.
PROBE = """
(() => {
  const marks = (window.__journey = {});
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  const byId = (id) => document.getElementById(id);
  const tappable = (el) => {
    if (!el || el.hidden) return false;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return false;
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return Boolean(hit && el.contains(hit));
  };
  const worded = (el) => Boolean(el && el.textContent.trim());
  // What the page uploads (Chromium does not count a FormData's files in its request sizes): bytes of each POST.
  const fetch0 = window.fetch;
  marks.uploads = [];
  window.fetch = function (input, init) {
    const body = init && init.body;
    if (body instanceof FormData) {
      let n = 0;
      for (const [, value] of body.entries()) n += typeof value === "string" ? value.length : value.size;
      marks.uploads.push(n);
    } else if (typeof body === "string") marks.uploads.push(body.length);
    return fetch0.apply(this, arguments);
  };
  addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest('[data-action="send"]')) marks.send = performance.now();
  }, true);
  let watching = false;
  const timer = setInterval(() => {
    const add = byId("add");
    const flow = byId("flow");
    if (!("add" in marks) && tappable(add) && worded(add)) mark("add");
    if (!("plus" in marks) && flow && tappable(add)) {
      add.click();
      if (!flow.hidden) mark("plus");
    }
    if ("plus" in marks && !("screen" in marks) && flow) {
      const where = flow.querySelector('[data-step="where"]');
      if (where && !where.hidden) where.querySelector('[data-action="next"]').click();
      const what = flow.querySelector('[data-step="what"]');
      const themes = what ? [...what.querySelectorAll(".theme")] : [];
      if (what && !what.hidden && themes.length && themes.every((b) => worded(b.querySelector(".label")))
          && themes.every((b) => b.querySelector("svg, img"))) mark("screen");
    }
    const done = flow && flow.querySelector('[data-step="done"]');
    if (done && !done.hidden && "send" in marks && !("done" in marks)) {
      mark("done");
      marks.state = byId("done-status").dataset.state;
    }
    const map = window.cartoMap;
    if (map && !watching) {
      watching = true;
      const drawn = () => map.loaded() && map.areTilesLoaded() && map.querySourceFeatures("communes").length;
      const check = () => { if (drawn()) { mark("map"); map.off("idle", check); } };
      map.on("idle", check);
    }
  }, 50);
})();
"""
TIME_ORIGIN = "() => performance.timeOrigin"
FIRST_PAINT = "() => (performance.getEntriesByName('first-paint')[0] || {startTime: NaN}).startTime"
KINDS = ["document", "JS", "CSS", "fonts", "images", "JSON", "tiles", "other"]


def kind_of(request) -> str:
    """The resource type a phone's data plan pays for: by URL first (our API's JSON, tiles), then Chromium's."""
    url = request.url.split("?")[0]
    if url.endswith((".mvt", ".pmtiles", ".pbf")):
        return "tiles"
    if url.endswith(".json") or "/api/" in url:
        return "JSON"
    if url.endswith((".js", ".mjs")) or request.resource_type == "script":
        return "JS"
    if url.endswith(".css") or request.resource_type == "stylesheet":
        return "CSS"
    if url.endswith((".woff", ".woff2", ".ttf")) or request.resource_type == "font":
        return "fonts"
    if url.endswith((".svg", ".png", ".jpg", ".webp", ".ico")) or request.resource_type == "image":
        return "images"
    if request.resource_type == "document":
        return "document"
    return "other"


class Traffic:
    """Every HTTP request of a context (pages, workers, service worker) and what it cost on the wire."""

    def __init__(self, context) -> None:
        self.finished: list = []
        self.failed: list = []
        context.on("requestfinished", lambda r: r.url.startswith("http") and self.finished.append(r))
        context.on("requestfailed", lambda r: r.url.startswith("http") and self.failed.append(r))

    def mark(self) -> int:
        return len(self.finished)

    def rows(self, since: int = 0) -> list[tuple[str, int, int, str, bool, bool]]:
        """(kind, bytes down, bytes up, URL, answered from the service worker's cache, made by the service
        worker) of the requests since a mark."""
        rows = []
        for request in self.finished[since:]:
            response = request.response()
            if response is None:
                continue
            try:
                sizes = request.sizes()
            except Exception:  # noqa: BLE001, S112 (a request Chromium forgot: nothing to count)
                continue
            cached = response.from_service_worker
            if request.service_worker is not None and sizes["responseBodySize"] <= 0:
                continue  # the precache re-reading the HTTP cache (what the page just downloaded): no traffic
            down = 0 if cached else sizes["responseHeadersSize"] + max(0, sizes["responseBodySize"])
            up = sizes["requestHeadersSize"] + sizes["requestBodySize"] if not cached else 0
            rows.append((kind_of(request), down, up, request.url, cached, request.service_worker is not None))
        return rows


def by_kind(rows: list) -> dict[str, float]:
    """KB down per kind, and the total."""
    kb = {k: 0.0 for k in KINDS}
    for kind, down, _, _, _, _ in rows:
        kb[kind] += down / 1024
    kb["total"] = sum(kb[k] for k in KINDS)
    kb["by the service worker"] = sum(row[1] for row in rows if row[5]) / 1024
    return kb


def new_context(browser, base: str):
    context = browser.new_context(
        **PHONE, locale="fr-FR", base_url=base, geolocation=GEOLOCATION, permissions=["geolocation"]
    )
    context.add_init_script(PROBE)
    return context


def throttle(context, page, network: dict | None):
    """CDP network and CPU emulation on the page's target (None: none); returns the session."""
    cdp = context.new_cdp_session(page)
    if network is not None:
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", network)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return cdp


def wait_mark(page, name: str) -> float:
    page.wait_for_function(f"() => '{name}' in window.__journey", timeout=TIMEOUT_MS, polling=100)
    return page.evaluate(f"() => window.__journey['{name}']")


def fill_need(page, text: str) -> None:
    """From the theme grid to the words step, as a finger does."""
    page.locator('.theme[data-theme="logement"]').tap(timeout=TIMEOUT_MS)
    page.locator('.kind[data-kind="need"]').tap(timeout=TIMEOUT_MS)
    page.locator('[data-step="what"] [data-action="next"]').tap(timeout=TIMEOUT_MS)
    page.locator("#pin-text").fill(text, timeout=TIMEOUT_MS)


def send_and_wait(page) -> dict:
    """Tap send (and "send mine" if similar pins are proposed); the done step's state and the time it took."""
    page.locator('[data-step="words"] [data-action="send"]').tap(timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => 'done' in window.__journey || !document.querySelector('[data-step=\"similar\"]').hidden",
        timeout=TIMEOUT_MS,
        polling=100,
    )
    if page.locator('[data-step="similar"]').is_visible():
        page.locator('[data-action="send-anyway"]').tap(timeout=TIMEOUT_MS)
    done = wait_mark(page, "done")
    marks = page.evaluate("() => window.__journey")
    return {"ms": done - marks["send"], "state": marks.get("state")}


def phone_photo() -> bytes:
    """A 12-megapixel JPEG as a phone camera writes it: a few MB (light, blurred texture over colour gradients)."""
    from PIL import Image, ImageFilter

    size = (4032, 3024)
    noise = Image.effect_noise(size, 40).filter(ImageFilter.GaussianBlur(0.8)).convert("RGB")
    scene = Image.merge("RGB", [Image.linear_gradient("L").resize(size), Image.radial_gradient("L").resize(size),
                                Image.linear_gradient("L").rotate(90).resize(size)])  # fmt: skip
    out = io.BytesIO()
    Image.blend(noise, scene, 0.6).save(out, "JPEG", quality=92)
    return out.getvalue()


def visit(browser, base: str, network: dict | None) -> dict:
    """A first visit and a pin (no photo); with a network, also the return visit, the drop and offline."""
    from carto.models import Pin, PinPhoto

    context = new_context(browser, base)
    traffic = Traffic(context)
    try:
        page = context.new_page()
        cdp = throttle(context, page, network)
        page.goto("/", wait_until="commit", timeout=TIMEOUT_MS)
        screen = wait_mark(page, "screen")
        mapped = wait_mark(page, "map")
        if network is not None:  # the first visit's bytes include the service worker's precache
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_timeout(500)
        first_rows = traffic.rows()
        result = {
            "paint": page.evaluate(FIRST_PAINT),
            # Tappable in the DOM is not yet on screen: the pill is usable from the first paint on.
            "add": max(page.evaluate("() => window.__journey.add"), page.evaluate(FIRST_PAINT)),
            "screen": screen,
            "map": mapped,
            "first": by_kind(first_rows),
            "first_listing": first_rows,
        }
        fill_need(page, "L'ascenseur est en panne depuis trois semaines")
        result["send"] = send_and_wait(page)
        if network is None:
            return result

        # The service worker registers once the map is drawn: a return visit comes after it has installed.
        page.evaluate("() => navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
        page.close()
        since = traffic.mark()
        page = context.new_page()
        cdp = throttle(context, page, network)
        page.goto("/", wait_until="commit", timeout=TIMEOUT_MS)
        result["repeat_screen"] = wait_mark(page, "screen")
        result["repeat_map"] = wait_mark(page, "map")
        repeat_rows = traffic.rows(since)
        result["repeat"] = by_kind(repeat_rows)
        result["repeat_listing"] = repeat_rows

        # A pin with a photo straight from the camera, "send" tapped as soon as it is chosen.
        fill_need(page, "Dépôt sauvage au pied de l'immeuble")
        since = traffic.mark()
        page.locator("#pin-photo").set_input_files(
            {"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}
        )
        page.evaluate("() => { delete window.__journey.send; delete window.__journey.done; }")
        uploads = len(page.evaluate("() => window.__journey.uploads"))
        result["photo_send"] = send_and_wait(page)
        result["photo_up_kb"] = sum(page.evaluate("() => window.__journey.uploads")[uploads:]) / 1024
        pin = Pin.objects.filter(text="Dépôt sauvage au pied de l'immeuble").order_by("-id").first()
        result["photo_arrived"] = bool(pin and PinPhoto.objects.filter(pin=pin).exists())

        # The network drops at the words step; "send" must say "waiting", then the pin leaves once back.
        page.locator('#flow [data-action="close"]').first.tap(timeout=TIMEOUT_MS)
        page.evaluate(
            "() => { for (const k of ['plus', 'screen', 'send', 'done']) delete window.__journey[k]; }"
        )
        wait_mark(page, "screen")
        text = f"Plus de lumière dans le hall {time.time_ns()}"
        fill_need(page, text)
        cdp.send("Network.emulateNetworkConditions", OFFLINE)
        since = traffic.mark()
        offline_send = send_and_wait(page)
        back = time.monotonic()
        cdp.send("Network.emulateNetworkConditions", network)
        deadline = back + TIMEOUT_MS / 1000
        while not Pin.objects.filter(text=text).exists() and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        arrived = Pin.objects.filter(text=text).count()
        back_ms = (time.monotonic() - back) * 1000 if arrived else float("nan")
        page.wait_for_timeout(1000)  # the answer's last bytes, after the server's commit
        result["drop"] = {
            "state": offline_send["state"],
            "back_ms": back_ms,
            "pins": arrived,
            "posts": sum(r[3].endswith("/api/pins/") for r in traffic.rows(since)),  # answered ones
        }
        page.close()

        # Offline return visit: the whole context (its service worker too) without network.
        context.set_offline(True)
        page = context.new_page()
        page.goto("/", wait_until="commit", timeout=TIMEOUT_MS)
        try:
            result["offline_screen"] = wait_mark(page, "screen")
        except Exception:  # noqa: BLE001 (a timeout: the screen never came)
            result["offline_screen"] = float("nan")
        return result
    finally:
        context.close()


def bare_page() -> bytes:
    """The first screen as bare static HTML: the sprite and the 16 themes' French words, inline CSS, no script."""
    from carto.models import Theme
    from frontend.pictograms import sprite

    buttons = "".join(
        f'<button><svg width="40" height="40"><use href="#picto-{t.pictogram}"/></svg>{t.labels["fr"]}</button>'
        for t in Theme.objects.filter(parent__isnull=False).order_by("order", "slug")
    )
    style = "<style>body{font:16px sans-serif;margin:0}button{width:30%;height:96px;margin:1%}</style>"
    return (
        f"<!doctype html><meta name=viewport content='width=device-width'>{style}{sprite()}{buttons}".encode()
    )


def serve_bare(html: bytes) -> tuple[http.server.HTTPServer, str]:
    """A plain HTTP server answering the bare page, gzipped, to every GET."""
    body = gzip.compress(html, compresslevel=6)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def bare_visit(browser, url: str) -> dict:
    context = browser.new_context(**PHONE, locale="fr-FR")
    try:
        page = context.new_page()
        throttle(context, page, SLOW_3G)
        traffic = Traffic(context)
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function("() => performance.getEntriesByName('first-paint').length", timeout=TIMEOUT_MS)
        return {"paint": page.evaluate(FIRST_PAINT), "kb": by_kind(traffic.rows())["total"]}
    finally:
        context.close()


PHOTO = b""


def main() -> None:
    global PHOTO
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", action="store_true", help="list the last run's requests by size")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    use_bench_database()
    from carto.models import Pin

    Pin.objects.all().delete()  # the bench's own pins of an earlier run: no similar pins to propose
    PHOTO = phone_photo()
    print(
        f"database {os.environ['CARTO_BENCH_DATABASE']}; camera photo {len(PHOTO) / 1024:.0f} KB", flush=True
    )
    bare_httpd, bare_url = serve_bare(bare_page())
    server, base = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            slow, fast, bare = [], [], []
            for run in range(args.runs):  # interleaved: a busy moment of the machine weighs on all alike
                slow.append(visit(browser, base, SLOW_3G))
                fast.append(visit(browser, base, None))
                bare.append(bare_visit(browser, bare_url))
                s = slow[-1]
                print(
                    f"run {run + 1}: pictograms {s['screen']:.0f} ms, map {s['map']:.0f} ms, "
                    f"send {s['send']['ms']:.0f} ms, first {s['first']['total']:.0f} KB, "
                    f"repeat {s['repeat']['total']:.0f} KB, photo up {s['photo_up_kb']:.0f} KB, "
                    f"drop {s['drop']}, offline screen {s['offline_screen']:.0f} ms",
                    flush=True,
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
        bare_httpd.shutdown()
    if args.requests:
        for name in ("first_listing", "repeat_listing"):
            print(f"\n{name.split('_')[0]} visit of the last run, by size\n{'KB':>8}  kind      URL")
            for kind, down, _, url, cached, by_sw in sorted(slow[-1][name], key=lambda r: -r[1]):
                note = (
                    "  (from the service worker)" if cached else "  (by the service worker)" if by_sw else ""
                )
                print(f"{down / 1024:8.1f}  {kind:<8}  {url.removeprefix(base)}{note}")
    report(slow, fast, bare, args.runs)


def report(slow: list[dict], fast: list[dict], bare: list[dict], runs: int) -> None:
    def med(rows: list, get) -> float:
        return statistics.median(get(r) for r in rows)

    print(f"\nmedians of {runs} runs; 360×740, slow 3G 400 kbit/s each way, 400 ms RTT, CPU ×{CPU_SLOWDOWN}")
    print(
        "first visit: until the map is usable and the service worker installed; return: until the map is usable"
    )
    print(f"{'KB on the wire':<22}{'first':>9}{'repeat':>9}{'repeat/first':>14}{'unthrottled first':>19}")
    for kind in [*KINDS, "total", "by the service worker"]:
        first, repeat = (
            med(slow, lambda r, k=kind: r["first"][k]),
            med(slow, lambda r, k=kind: r["repeat"][k]),
        )
        ratio = f"{repeat / first:.2f}" if first else "-"
        print(
            f"{kind:<22}{first:>9.1f}{repeat:>9.1f}{ratio:>14}{med(fast, lambda r, k=kind: r['first'][k]):>19.1f}"
        )
    bare_paint, bare_kb = med(bare, lambda r: r["paint"]), med(bare, lambda r: r["kb"])
    print(
        f"bare first screen (static HTML, sprite and words, gzip): {bare_kb:.1f} KB, first paint {bare_paint:.0f} ms"
    )
    header = f"{'ms from navigation':<30}{'slow 3G':>9}{'/ bare':>8}{'unthrottled':>13}{'ratio':>8}"
    print(f"\n{header}\n{'-' * len(header)}")
    rows = [
        ("first paint", lambda r: r["paint"]),
        ('"Ajouter" tappable, worded', lambda r: r["add"]),
        ("pictogram screen", lambda r: r["screen"]),
        ("map usable", lambda r: r["map"]),
        ("send → confirmed", lambda r: r["send"]["ms"]),
    ]
    for name, get in rows:
        ours, base = med(slow, get), med(fast, get)
        print(f"{name:<30}{ours:>9.0f}{ours / bare_paint:>7.1f}×{base:>13.0f}{ours / base:>7.1f}×")
        emit("phone_journey", f"{name} slow 3G / unthrottled", ours, base, ours / base, "", None)
    for name, get in [("return: pictogram screen", lambda r: r["repeat_screen"]),
                      ("return: map usable", lambda r: r["repeat_map"]),
                      ("return offline: pictograms", lambda r: r["offline_screen"])]:  # fmt: skip
        ours, first = med(slow, get), med(slow, lambda r: r["screen"])
        print(f"{name:<30}{ours:>9.0f}{ours / bare_paint:>7.1f}×{'':>13}{'':>8}")
    first_kb, repeat_kb = med(slow, lambda r: r["first"]["total"]), med(slow, lambda r: r["repeat"]["total"])
    emit("phone_journey", "KB first visit until the map is usable / bare first screen", first_kb, bare_kb,
         first_kb / bare_kb, "", None)  # fmt: skip
    emit(
        "phone_journey", "KB return visit / first visit", repeat_kb, first_kb, repeat_kb / first_kb, "", None
    )
    photo_ms = med(slow, lambda r: r["photo_send"]["ms"])
    print(
        f"\nphoto (camera file {len(PHOTO) / 1024:.0f} KB): {med(slow, lambda r: r['photo_up_kb']):.0f} KB uploaded, "
        f"send → confirmed {photo_ms:.0f} ms ({photo_ms / med(slow, lambda r: r['send']['ms']):.1f}× without photo), "
        f"arrived with the pin in {sum(r['photo_arrived'] for r in slow)}/{runs} runs"
    )
    drops = [r["drop"] for r in slow]
    print(
        f"network drop at the words step: shown {sorted({d['state'] for d in drops})}, "
        f"back online → on the server {statistics.median(d['back_ms'] for d in drops):.0f} ms, "
        f"pins per drop {sorted({d['pins'] for d in drops})}, POSTs per drop {sorted({d['posts'] for d in drops})}"
    )


if __name__ == "__main__":
    main()
