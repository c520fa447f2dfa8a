"""/coverage/ for officials: the map and the table of needs voiced in several communes with no response."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from carto.models import AuditEntry, ClusterDecision, PinCluster
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin
from tests.jobs import jobs_done

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "correct horse battery staple"


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
    jobs_done()  # clustered by the job worker
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
    assert page.locator("#detail .curate").count() == 0  # curators only
    shot(page, "coverage-cluster")

    # Above the cluster's span, it is not a gap any more.
    page.select_option("#min-territories", "4")
    page.wait_for_function(
        "() => document.body.dataset.state === 'ready' && document.body.dataset.gaps === '0'"
    )
    assert page.locator("#gaps tbody tr").count() == 0
    assert page.locator("#gaps-count").inner_text() == "Aucun besoin non couvert à ce seuil."
    assert errors == []


def test_a_curator_says_a_pin_is_not_the_same_need_and_it_leaves_the_cluster(desktop, gap, shot):
    cluster, pins = gap
    curator = User.objects.create_user(username="asso", password=PASSWORD)
    curator.groups.add(Group.objects.get_or_create(name="association")[0])
    page = desktop()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/?next=/coverage/")
    page.fill("#id_username", "asso")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/coverage/")
    page.goto(f"/coverage/#cluster-{cluster.id}")
    page.wait_for_selector(f'#detail:not([hidden])[data-cluster="{cluster.id}"]')

    # Each pin the detail lists has both buttons, named by their label and described by the pin's text.
    leaving = pins[2]  # Villeneuve-la-Garenne
    item = page.locator(f'#detail li[data-pin="{leaving.id}"]')
    same = item.get_by_role("button", name="Même besoin", exact=True)
    apart = item.get_by_role("button", name="Pas le même besoin", exact=True)
    assert same.count() == 1 and apart.count() == 1
    assert page.locator("#detail .curate").count() == 3
    described = apart.get_attribute("aria-describedby")
    assert page.locator(f"#{described}").text_content() == leaving.text
    shot(page, "coverage-curator")

    apart.click()
    # The detail is drawn again from the 201 answer: the pin has left, the counts say so.
    page.wait_for_selector(f'#detail li[data-pin="{leaving.id}"]', state="detached")
    detail = page.locator("#detail")
    assert detail.locator(".cov-status").text_content() == (
        "Noté : pas le même besoin, l'épingle a quitté le groupe."
    )
    assert (
        detail.locator(".cluster-line").text_content() == "2 personnes dans 2 communes disent la même chose"
    )
    assert detail.locator("li[data-pin]").count() == 2
    # The table follows (counts from /api/coverage/ again).
    page.wait_for_function(
        f"""() => document.body.dataset.state === 'ready' &&
        document.querySelector('#gaps tr[data-cluster="{cluster.id}"] td:nth-child(4)')?.textContent === '2'"""
    )
    shot(page, "coverage-curator-apart")

    # The API and the database: the pin is alone in a cluster of its own, the curator's word is stored.
    api = page.request.get(f"/api/clusters/{cluster.id}/").json()
    assert sorted(p["id"] for p in api["pins"]) == sorted(p.id for p in pins[:2])
    assert page.request.get(f"/api/pins/{leaving.id}/").json()["properties"]["cluster"] is None
    link = PinCluster.objects.get(pin=leaving)
    assert link.cluster_id != cluster.id and link.pinned_by_curator
    decision = ClusterDecision.objects.get()
    assert (decision.same, decision.created_by_id) == (False, curator.id)
    assert {decision.pin_id, decision.other_pin_id} == {leaving.id, min(p.id for p in pins[:2])}
    assert AuditEntry.objects.filter(action="cluster_decision", actor=curator).count() == 1
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
    ok = page.request.get("/api/coverage/gaps.geojson?min_territories=2")
    assert ok.status == 200
    features = ok.json()["features"]
    assert sorted(f["properties"]["pin"] for f in features) == sorted(p.id for p in pins)
    assert set(features[0]["properties"]) == {"pin", "cluster", "label", "territory_count"}
    bad = page.request.get("/api/coverage/gaps.geojson?min_territories=lots")
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
