"""/coverage/ for officials: the map and the table of needs voiced in several communes with no response."""

from __future__ import annotations

import pytest

from carto.models import PinCluster
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def desktop(browser, server, committed_db):
    contexts = []

    def open_page(locale: str = "fr-FR"):
        context = browser.new_context(**DESKTOP, locale=locale, base_url=server.url)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def gap():
    """The same printing need in 3 communes of 3 EPT, linked to no response: one uncovered cluster."""
    pins = [
        make_pin(*BELLEVILLE, text="Pas d'endroit pour imprimer mes papiers CAF"),
        make_pin(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF"),
        make_pin(*VILLENEUVE_LA_GARENNE, text="Pas d'imprimante pour mes papiers CAF"),
    ]
    clusters = {PinCluster.objects.select_related("cluster").get(pin=p).cluster for p in pins}
    assert len(clusters) == 1, "the same need in 3 communes is one cluster"
    return clusters.pop(), pins


def test_the_coverage_page_lists_and_maps_an_uncovered_cluster(desktop, gap, shot):
    cluster, pins = gap
    page = desktop()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/coverage/")
    page.wait_for_selector("body[data-state='ready']")

    row = page.locator(f'#gaps tr[data-cluster="{cluster.id}"]')
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == cluster.label
    assert cells[2:] == ["3", "3", "0"]  # communes, pins, supports
    assert row.locator("a").get_attribute("href") == f"#cluster-{cluster.id}"
    assert page.locator("h1").inner_text() == "Besoins sans réponse du Grand Paris"

    # The map shows the cluster's pins (public locations), once the sources have loaded.
    page.wait_for_function("() => window.cartoCoverage.loaded() && window.cartoCoverage.areTilesLoaded()")
    drawn = page.evaluate("() => window.cartoCoverage.querySourceFeatures('gaps').map((f) => f.properties)")
    assert {d["pin"] for d in drawn if d["cluster"] == cluster.id} == {p.id for p in pins}
    shot(page, "coverage")

    # The link opens the cluster: territories, what residents say, actors nearby, suggested responses.
    row.locator("a").click()
    page.wait_for_selector(f'#detail:not([hidden])[data-cluster="{cluster.id}"]')
    detail = page.locator("#detail").inner_text()
    assert "Bondy" in detail and "Villeneuve-la-Garenne" in detail
    assert "Pas d'imprimante pour mes papiers CAF" in detail
    assert "3 personnes dans 3 communes disent la même chose" in detail
    assert page.locator(f'#gaps tr.on[data-cluster="{cluster.id}"]').count() == 1
    shot(page, "coverage-cluster")

    # Above the cluster's span, it is not a gap any more.
    page.select_option("#min-territories", "4")
    page.wait_for_function(
        "() => document.body.dataset.state === 'ready' && document.body.dataset.gaps === '0'"
    )
    assert page.locator("#gaps tbody tr").count() == 0
    assert page.locator("#gaps-count").inner_text() == "Aucun besoin non couvert à ce seuil."
    assert errors == []


def test_the_coverage_page_in_arabic_is_right_to_left(desktop, gap):
    cluster, _ = gap
    page = desktop(locale="ar")
    page.goto("/coverage/")
    page.wait_for_selector("body[data-state='ready']")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator("h1").inner_text() == "احتياجات بلا استجابة من باريس الكبرى"
    assert page.locator(f'#gaps tr[data-cluster="{cluster.id}"]').count() == 1


def test_the_gap_points_feed_answers_bad_input_in_the_json_error_shape(desktop, gap):
    cluster, pins = gap
    page = desktop()
    ok = page.request.get("/coverage/gaps.geojson?min_territories=2")
    assert ok.status == 200
    features = ok.json()["features"]
    assert sorted(f["properties"]["pin"] for f in features) == sorted(p.id for p in pins)
    assert set(features[0]["properties"]) == {"pin", "cluster", "label", "territory_count"}
    bad = page.request.get("/coverage/gaps.geojson?min_territories=lots")
    assert bad.status == 400
    assert bad.json()["error"]["code"] == "invalid_parameter"


def test_the_coverage_page_renders_its_shell_without_words_in_the_markup(client, db):
    """Also puts a `db` test in any run of this module, so pytest-django sets up the test database (the
    browser tests only use committed_db, which pytest-django does not count as needing one)."""
    response = client.get("/coverage/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="/static/frontend/coverage.js"' in html
    assert 'data-i18n="coverage.title"' in html
