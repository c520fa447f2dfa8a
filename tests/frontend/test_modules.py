"""The resident's page asks for all its ES modules at once, and its service worker keeps every one offline."""

from __future__ import annotations

import re
from pathlib import Path

from frontend.modules import STATIC, module_graph


def test_the_graph_holds_every_module_imported_at_any_depth_once():
    graph = module_graph("frontend/app.js")
    assert graph[0] == "frontend/app.js"
    assert len(set(graph)) == len(graph)
    # places.js is imported by flow.js, not by app.js itself.
    assert {"frontend/flow.js", "frontend/places.js", "frontend/lazymap.js"} <= set(graph)
    for path in graph:
        for name in re.findall(r'from\s+"\./([\w-]+\.js)"', (STATIC / path).read_text("utf-8")):
            assert f"frontend/{name}" in graph, (path, name)


def test_the_home_page_preloads_the_whole_graph(client, db):
    page = client.get("/").content.decode()
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', page)
    assert preloaded == list(module_graph("frontend/app.js"))


def test_the_service_worker_keeps_every_module_of_the_page_for_offline_visits():
    sw = (Path(STATIC) / "sw.js").read_text("utf-8")
    modules = re.search(r"const MODULES = \[([^\]]*)\]", sw)[1]
    kept = {f"frontend/{name}.js" for name in re.findall(r'"([\w-]+)"', modules)}
    assert set(module_graph("frontend/app.js")) <= kept
