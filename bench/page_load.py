"""The resident's first screen on a cheap phone: first paint, "+" usable, map drawn, bytes and requests.

    .venv/bin/python bench/page_load.py [--runs 5] [--requests]

Issue 13's cheap-phone profile, applied through Chromium DevTools (Playwright's CDP session): a 360×740
touch screen, 3G at 1.6 Mbps down / 750 kbps up / 150 ms latency (Network.emulateNetworkConditions) and
the CPU slowed ×4 (Emulation.setCPUThrottlingRate). Every run is a first visit (new browser context: empty
HTTP cache, no service worker) of `/` served as `make run` serves it: `manage.py runserver` started here,
static files from whitenoise's finders.

Measured in the page (performance.now(), from navigation start):
- first paint: the paint timing entry;
- "+" usable: a probe taps "+" every 50 ms where a finger would (the element at its centre) until the
  flow's sheet opens; it then goes on to the "what" step;
- pictograms: the "what" step is shown and every pictogram file the page asked for has arrived;
- map drawn: MapLibre's "idle" with the map loaded, every tile in and the commune outlines drawn;
- bytes (encoded, headers included) and requests the page made until the map was drawn, from Playwright's
  request events (MapLibre's workers included); `--requests` lists them with their times.
Baselines from the same run: a bare HTML page of the same server on the same profile (Django's 404 page:
one round trip, no sub-resource), and the same page without throttling. Medians over the runs.
Database: CARTO_BENCH_DATABASE (default bench_places: reference data only, as bench/places.py); under
`make bench` the 100 k pins of bench_pins.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_places")

from bench.generate_pins import use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

CHROMIUM = os.environ.get("CARTO_CHROMIUM", "/usr/bin/chromium")
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
# Issue 13: 3G at 1.6 Mbps down, 750 kbps up, 150 ms latency; CPU ×4. DevTools takes bytes per second.
NETWORK = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
CPU_SLOWDOWN = 4
TARGET_PLUS_MS = 3000
TARGET_MAP_MS = 6000
TARGET_KB = 450
TIMEOUT_MS = 90_000

TIME_ORIGIN = "() => performance.timeOrigin"
FIRST_PAINT = "() => (performance.getEntriesByName('first-paint')[0] || {startTime: NaN}).startTime"
# Runs in the page before its own scripts: marks the moments, taps "+" as a resident would as soon as it shows.
PROBE = """
(() => {
  const marks = (window.__load = {});
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  const byId = (id) => document.getElementById(id);
  const tappable = (el) => {
    if (!el || el.hidden) return false;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return false;
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return Boolean(hit && el.contains(hit));
  };
  let watching = false;
  const timer = setInterval(() => {
    const add = byId("add");
    const flow = byId("flow");
    if (!("plus" in marks) && flow && tappable(add)) {
      add.click();
      if (!flow.hidden) mark("plus");
    }
    if ("plus" in marks && !("what" in marks) && flow) {
      const where = flow.querySelector('[data-step="where"]');
      if (where && !where.hidden) where.querySelector('[data-action="next"]').click();
      const what = flow.querySelector('[data-step="what"]');
      if (what && !what.hidden && what.querySelector(".theme")) mark("what");
    }
    const map = window.cartoMap;
    if (map && !watching) {
      // Checked when MapLibre says it is idle, not polled: querying features every 50 ms would slow the map.
      watching = true;
      const drawn = () => map.loaded() && map.areTilesLoaded() && map.querySourceFeatures("communes").length;
      const check = () => { if (drawn()) { mark("map"); map.off("idle", check); } };
      map.on("idle", check);
    }
    if ("what" in marks && watching) clearInterval(timer);
  }, 50);
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    """`manage.py runserver` (as `make run`) on the bench database; returns the process and its URL."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 (local server)
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit("the server did not start") from None
            time.sleep(0.3)
    # One warm-up: the first request loads the templates, the tiles' SQL, the text model's imports.
    with urllib.request.urlopen(f"{base}/", timeout=30):  # noqa: S310 (local server)
        pass
    return process, base


class Traffic:
    """The page's HTTP requests (MapLibre's workers included), as Playwright sees them in the context."""

    def __init__(self, context) -> None:
        self.started: list = []
        self.finished: list = []
        self.failed: list = []
        context.on("request", lambda r: self._keep(self.started, r))
        context.on("requestfinished", lambda r: self._keep(self.finished, r))
        context.on("requestfailed", lambda r: self._keep(self.failed, r))

    @staticmethod
    def _keep(into: list, request) -> None:
        if request.url.startswith("http"):  # not the workers' blob: nor data: URLs
            into.append(request)

    def pictograms_pending(self) -> bool:
        done = {id(r) for r in self.finished + self.failed}
        return any(
            "/pictograms/" in r.url and not r.service_worker and id(r) not in done for r in self.started
        )

    def snapshot(self) -> tuple[int, list]:
        """The page's requests in flight (not the service worker's precache), and those finished."""
        done = {id(r) for r in self.finished + self.failed}
        return sum(id(r) not in done and not r.service_worker for r in self.started), list(self.finished)


def weigh(finished: list, time_origin: float) -> list[tuple[int, str, float, float]]:
    """(bytes received: headers and encoded body, URL, start and end in ms from navigation start) of the
    finished requests that used the network, biggest first.

    The service worker's precache re-reads from the HTTP cache the files the page just downloaded: those
    (no body bytes) are not traffic.
    """
    rows = []
    for request in finished:
        sizes = request.sizes()
        if sizes["responseBodySize"] > 0 or not request.service_worker:
            start = request.timing["startTime"] - time_origin
            rows.append((sizes["responseHeadersSize"] + max(0, sizes["responseBodySize"]), request.url, start,
                         start + request.timing["responseEnd"]))  # fmt: skip
    return sorted(rows, reverse=True)


def last_pictogram_ms(finished: list, time_origin: float) -> float:
    """When the last pictogram file the page asked for arrived, in ms from navigation start (0: none)."""
    ends = [
        r.timing["startTime"] + r.timing["responseEnd"]
        for r in finished
        if "/pictograms/" in r.url and not r.service_worker  # not the precache, after the first screen
    ]
    return max(ends) - time_origin if ends else 0.0


def measure(browser, base: str, *, throttled: bool, path: str = "/") -> dict[str, float]:
    """One first visit of `path`; the page's marks, and traffic until the map was drawn."""
    context = browser.new_context(**PHONE, locale="fr-FR")
    try:
        context.add_init_script(PROBE)
        page = context.new_page()
        traffic = Traffic(context)
        if throttled:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.emulateNetworkConditions", NETWORK)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(f"{base}{path}", wait_until="commit", timeout=TIMEOUT_MS)
        if path != "/":
            page.wait_for_load_state("load", timeout=TIMEOUT_MS)
            page.wait_for_function(
                "() => performance.getEntriesByName('first-paint').length", timeout=TIMEOUT_MS
            )
            in_flight, finished = traffic.snapshot()
            listing = weigh(finished, page.evaluate(TIME_ORIGIN))
            return {"paint": page.evaluate(FIRST_PAINT), "requests": in_flight + len(listing),
                    "kb": sum(row[0] for row in listing) / 1024}  # fmt: skip
        page.wait_for_function("() => 'map' in window.__load", timeout=TIMEOUT_MS, polling=50)
        in_flight, finished = traffic.snapshot()
        drawn = page.evaluate("() => window.__load.map")
        page.wait_for_function("() => 'what' in window.__load", timeout=TIMEOUT_MS, polling=50)
        marks = page.evaluate("() => window.__load")
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while traffic.pictograms_pending() and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        pictograms = last_pictogram_ms(traffic.snapshot()[1], page.evaluate(TIME_ORIGIN))
        # What started once the map was drawn is not the first screen's (the service worker's precache).
        listing = [row for row in weigh(finished, page.evaluate(TIME_ORIGIN)) if row[2] < drawn]
        return {
            "paint": page.evaluate(FIRST_PAINT),
            "plus": marks["plus"],
            "pictograms": max(marks["what"], pictograms),
            "map": marks["map"],
            "kb": sum(row[0] for row in listing) / 1024,
            "requests": in_flight + len(listing),
            "listing": listing,
        }
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--requests", action="store_true", help="list the last profile run's requests by size"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    use_bench_database()
    from carto.models import Pin

    print(f"database {os.environ['CARTO_BENCH_DATABASE']}: {Pin.objects.count():,} pins")
    server, base = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            profile, fast, bare = [], [], []
            # Interleaved, so a busy moment of the machine weighs on all three alike.
            for run in range(args.runs):
                profile.append(measure(browser, base, throttled=True))
                fast.append(measure(browser, base, throttled=False))
                bare.append(measure(browser, base, throttled=True, path="/bench-bare-page/"))
                p = profile[-1]
                print(
                    f"run {run + 1}: paint {p['paint']:.0f} ms, + {p['plus']:.0f} ms, pictograms "
                    f"{p['pictograms']:.0f} ms, map {p['map']:.0f} ms, {p['kb']:.0f} KB in {p['requests']} requests",
                    flush=True,
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    if args.requests:
        print(f"the last run's requests until the map was drawn\n{'KB':>8}{'start':>8}{'end':>8}  URL")
        for size, url, start, end in profile[-1]["listing"]:
            print(f"{size / 1024:8.1f}{start:8.0f}{end:8.0f}  {url.removeprefix(base)}")
    report(profile, fast, bare, args.runs)


def report(profile: list[dict], fast: list[dict], bare: list[dict], runs: int) -> None:
    """One table: the profile's medians, over the bare page's first paint and over the same page unthrottled."""

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    bare_paint = med(bare, "paint")
    print(
        f"\nmedians of {runs} first visits; profile 360×740, 3G 1.6 Mbps / 750 kbps / 150 ms, CPU ×{CPU_SLOWDOWN}"
    )
    print(
        f"bare HTML page on the profile (one request, {med(bare, 'kb'):.1f} KB): first paint {bare_paint:.0f} ms"
    )
    header = f"{'measure':<22}{'profile':>9}{'/ bare':>8}{'unthrottled':>13}{'ratio':>7}  target"
    print(f"{header}\n{'-' * len(header)}")
    results = []
    for key, name, target in [("paint", "first paint ms", None), ("plus", '"+" usable ms', TARGET_PLUS_MS),
                              ("pictograms", "pictograms ms", None), ("map", "map drawn ms", TARGET_MAP_MS)]:  # fmt: skip
        ours, unthrottled = med(profile, key), med(fast, key)
        met = None if target is None else ours <= target
        verdict = "" if target is None else f"≤ {target} ms {'met' if met else 'MISSED'}"
        print(
            f"{name:<22}{ours:>9.0f}{ours / bare_paint:>7.1f}×{unthrottled:>13.0f}{ours / unthrottled:>6.1f}×  {verdict}"
        )
        results.append((f"{name} on the cheap phone / bare page first paint", ours, bare_paint, ours / bare_paint,
                        "" if target is None else f"<= {target} ms", met))  # fmt: skip
    kb, requests = med(profile, "kb"), med(profile, "requests")
    verdict = f"≤ {TARGET_KB} KB {'met' if kb <= TARGET_KB else 'MISSED'}"
    print(
        f"{'KB until map drawn':<22}{kb:>9.0f}{'':>8}{med(fast, 'kb'):>13.0f}{kb / med(fast, 'kb'):>6.2f}×  {verdict}"
    )
    print(f"{'requests until map':<22}{requests:>9.0f}{'':>8}{med(fast, 'requests'):>13.0f}")
    print("/ bare: over the bare page's first paint; ratio: the profile over the same page unthrottled")
    results.append(
        ("KB transferred until the map is drawn", kb, None, None, f"<= {TARGET_KB} KB", kb <= TARGET_KB)
    )
    results.append(("requests until the map is drawn", requests, None, None, "", None))
    for row in results:
        emit("page_load", *row)


if __name__ == "__main__":
    main()
