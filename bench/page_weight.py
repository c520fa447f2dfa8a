"""Weigh the resident's page as a phone first downloads it: gzip sizes, with and without MapLibre.

Usage: .venv/bin/python bench/page_weight.py
Renders `/` with Django's test client (no server needed), then gzips (level 6, what a web server uses)
every file the page and its service worker fetch before any map data: HTML, CSS, the ES modules, the
pictograms and the four i18n catalogues. Budgets from issue 4: ≤ 150 KB without MapLibre, ≤ 450 KB in all.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.test import Client  # noqa: E402

BUDGET_OWN_KB = 150
BUDGET_TOTAL_KB = 450
STATIC = ROOT / "frontend" / "static"


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def static_file(url: str) -> bytes:
    path = finders.find(url.removeprefix("/static/"))
    if not path:
        raise SystemExit(f"missing static file: {url}")
    return Path(path).read_bytes()


def own_files() -> dict[str, bytes]:
    """Everything carto serves for the resident's page, MapLibre excluded."""
    html = Client().get("/").content
    files = {"/ (HTML)": html, "/sw.js": (STATIC / "sw.js").read_bytes()}
    for url in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        name = url.decode()
        if "/vendor/" not in name:
            files[name] = static_file(name)
    # The ES modules the page really loads: app.js and what it imports, transitively (not other pages' modules).
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        key = f"/static/frontend/{name}"
        if key in files and key != "/static/frontend/app.js":
            continue
        files[key] = (STATIC / "frontend" / name).read_bytes()
        todo += [
            m
            for m in re.findall(r'from "\./([\w-]+\.js)"', files[key].decode())
            if f"/static/frontend/{m}" not in files
        ]
    for path in sorted((STATIC / "frontend" / "i18n").glob("*.json")):
        files[f"/static/frontend/i18n/{path.name}"] = path.read_bytes()
    for path in sorted((STATIC / "pictograms").glob("*.svg")):
        files[f"/static/pictograms/{path.name}"] = path.read_bytes()
    files["/api/themes/"] = Client().get("/api/themes/").content
    return files


def main() -> None:
    own = own_files()
    vendor = {
        u: static_file(u)
        for u in ("/static/vendor/maplibre-gl/maplibre-gl.js", "/static/vendor/maplibre-gl/maplibre-gl.css")
    }
    groups = {
        "HTML + sw.js": [k for k in own if k.startswith("/ (") or k == "/sw.js"],
        "CSS": [k for k in own if k.endswith(".css")],
        "JS modules": [k for k in own if k.endswith(".js") and k != "/sw.js"],
        "i18n (4 languages)": [k for k in own if "/i18n/" in k],
        "pictograms": [k for k in own if k.endswith(".svg")],
        "/api/themes/": ["/api/themes/"],
    }
    print(f"{'part':<22}{'files':>6}{'raw KB':>10}{'gzip KB':>10}")
    for name, keys in groups.items():
        raw = sum(len(own[k]) for k in keys)
        print(f"{name:<22}{len(keys):>6}{raw / 1024:>10.1f}{sum(gz(own[k]) for k in keys) / 1024:>10.1f}")
    own_gz = sum(gz(v) for v in own.values()) / 1024
    vendor_gz = sum(gz(v) for v in vendor.values()) / 1024
    print(
        f"{'MapLibre GL JS + CSS':<22}{len(vendor):>6}{sum(map(len, vendor.values())) / 1024:>10.1f}{vendor_gz:>10.1f}"
    )
    print()
    print(f"resident page without MapLibre: {own_gz:6.1f} KB gzip (budget {BUDGET_OWN_KB} KB)")
    print(f"whole first load:               {own_gz + vendor_gz:6.1f} KB gzip (budget {BUDGET_TOTAL_KB} KB)")
    if own_gz > BUDGET_OWN_KB or own_gz + vendor_gz > BUDGET_TOTAL_KB:
        raise SystemExit("over budget")


if __name__ == "__main__":
    main()
