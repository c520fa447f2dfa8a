"""/compare/ and /heatmap/ in headless Chromium, in French and in Arabic, on committed pins and the real
territories: choosing by name and on the map, the address holding the choice, charts, legends, exports,
the state of needs, and the one navigation of the dashboards (with /coverage/)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import BELLEVILLE, BONDY, make_pin
from tests.frontend.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 860}}
GOUTTE_DOR = (2.3560, 48.8850)  # rue Polonceau, Paris 18e: inside QPV QN07511M
SEVRAN = (2.5270, 48.9380)  # Sevran centre, Seine-Saint-Denis (T7 Paris Terres d'Envol)
FRENCH_MONTHS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
NAV = ["/", "/compare/", "/heatmap/", "/coverage/"]


@pytest.fixture
def pins(committed_db):
    """Committed visible pins: Belleville (6) and the Goutte d'Or (6) in Paris, Bondy (7 on housing and 3
    more, a small count), Sevran (2, a small count), counted in the grid cells and clustered after their
    commit."""
    return (
        [make_pin(*BELLEVILLE) for _ in range(6)]
        + [make_pin(*GOUTTE_DOR, text="Pas d'imprimante pour mes papiers CAF") for _ in range(6)]
        + [make_pin(*BONDY, theme="logement", text="Moisissures dans tout l'appartement") for _ in range(7)]
        + [make_pin(*BONDY) for _ in range(3)]
        + [make_pin(*SEVRAN) for _ in range(2)]
    )


@pytest.fixture
def desktop(browser, server, committed_db):
    contexts = []

    def open_page(locale: str = "fr-FR"):
        context = browser.new_context(**DESKTOP, locale=locale, base_url=server.url)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def nav_links(page) -> list[tuple[str, str, str | None]]:
    return page.eval_on_selector_all(
        ".dash-nav a",
        "links => links.map(a => [a.getAttribute('href'), a.textContent, a.getAttribute('aria-current')])",
    )


def click_map_at(page, map_name: str, lon: float, lat: float, container: str) -> None:
    x, y = page.evaluate(
        f"() => {{ const p = window.{map_name}.project([{lon}, {lat}]); return [p.x, p.y]; }}"
    )
    box = page.locator(container).bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_compare_in_french_by_name_and_on_the_map_with_charts_table_and_exports(desktop, pins, shot):
    page = desktop()
    page.goto("/compare/?territories=93010,75056&level=commune")
    page.wait_for_selector("body[data-compared='2']")
    assert page.locator("h1").inner_text() == "Comparer des quartiers et des communes"
    assert [href for href, _, _ in nav_links(page)] == NAV
    assert [current for *_, current in nav_links(page)] == [None, "page", None, None]
    headers = page.locator("#table thead th").all_inner_texts()
    assert headers[1:] == ["Bondy", "Paris"]

    # Bars per theme: Bondy's 7 housing pins say their count on focus; its 3 other pins are "moins de 5".
    housing = page.locator("#charts figure[data-theme='logement'] .bar").first
    assert housing.get_attribute("aria-label").startswith("Bondy : 7 signalements, ")
    housing.focus()
    assert page.locator("#tip").is_visible()
    assert "7 signalements" in page.inner_text("#tip")
    small = page.locator("#charts figure[data-theme='acceder-droits'] .bar[data-code='93010']")
    assert small.get_attribute("data-suppressed") == "1"
    assert small.get_attribute("aria-label") == "Bondy : moins de 5 signalements"
    assert "moins de 5" in small.text_content() and "0" not in small.text_content()
    table = page.locator("#table").inner_text()
    assert "moins de 5" in table
    # A trend per territory: the last 12 months.
    assert page.locator("#trends figure").count() == 2
    assert page.locator("#trends figure[data-code='93010'] .month").count() == 12

    # By name: "goutte" finds the Goutte d'Or QPV; it is compared with the rest of Paris.
    page.fill("#search", "goutte")
    page.press("#search", "Enter")
    page.wait_for_selector("body[data-compared='3']")
    assert query(page)["territories"] == "93010,75056,QN07511M"
    assert page.locator("#chosen li[data-code='QN07511M']").inner_text().startswith("Goutte D'Or")
    assert page.locator("#qpv-section").is_visible()
    qpv = page.locator("#qpv figure[data-code='QN07511M']")
    assert "Reste de Paris" in qpv.inner_text()
    assert qpv.locator(".ratio").inner_text().endswith("fois le taux du reste de la commune")

    # On the map (communes): Sevran is added by a click.
    page.wait_for_function("() => document.body.dataset.mapLevel === 'commune'")
    page.wait_for_function("() => window.cartoCompare.loaded()")
    click_map_at(page, "cartoCompare", *SEVRAN, "#compare-map")
    page.wait_for_selector("body[data-compared='4']")
    assert query(page)["territories"] == "93010,75056,QN07511M,93071"
    # Sevran's 2 pins this month: a hatched range in its trend, said "moins de 5", never a zero.
    month = page.locator("#trends figure[data-code='93071'] .month[data-suppressed='1']")
    assert month.count() == 1
    assert month.get_attribute("aria-label").endswith(" : moins de 5 signalements")
    assert (
        page.locator("#charts figure:first-child .bar[data-code='93071']").get_attribute("data-suppressed")
        == "1"
    )

    # Months in French, never mm/dd/yyyy; the period is in the address.
    labels = page.locator("#from option").all_inner_texts()
    assert all(re.fullmatch(rf"({FRENCH_MONTHS}) \d{{4}}", label) for label in labels[1:])
    page.select_option("#from", index=3)
    page.wait_for_function("() => new URLSearchParams(location.search).has('from')")
    page.wait_for_function("() => document.querySelector('#table caption').textContent.startsWith('Depuis ')")
    assert not re.search(r"\d+/\d+/\d+", page.inner_text("#table caption"))
    shot(page, "compare-fr")
    page.evaluate("document.getElementById('trends-title').scrollIntoView()")
    shot(page, "compare-fr-trends")
    page.evaluate("document.getElementById('qpv-title').scrollIntoView()")
    shot(page, "compare-fr-table")
    page.evaluate("window.scrollTo(0, 0)")

    # Exports: the table as CSV, the charts as PNG.
    with page.expect_download() as csv:
        page.click("#csv")
    assert csv.value.suggested_filename == "carto-comparaison.csv"
    content = Path(csv.value.path()).read_text(encoding="utf-8-sig")
    assert "Goutte D'Or" in content and "QN07511M" in content and "Sevran" in content
    with page.expect_download() as png:
        page.click("#png")
    assert png.value.suggested_filename == "carto-comparaison.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png.value.save_as(SCREENSHOTS / "compare-export.png")

    # The address is the selection: opened again, it shows the same comparison.
    again = desktop()
    again.goto(page.url)
    again.wait_for_selector("body[data-compared='4']")
    assert again.locator("#chosen li").evaluate_all("li => li.map(x => x.dataset.code)") == [
        "93010",
        "75056",
        "QN07511M",
        "93071",
    ]
    assert again.locator("#from").input_value() == query(page)["from"]
    assert page.errors == [] and again.errors == []


def test_compare_in_arabic_is_right_to_left_and_never_shows_a_small_count_as_zero(desktop, pins, shot):
    page = desktop(locale="ar")
    page.goto("/compare/?territories=93010,QN07511M")
    page.wait_for_selector("body[data-compared='2']")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator("h1").inner_text() == "مقارنة الأحياء والبلديات"
    assert [text for _, text, _ in nav_links(page)] == [
        "خريطة السكان",
        "مقارنة",
        "الخريطة الحرارية",
        "احتياجات بلا استجابة",
    ]
    small = page.locator("#charts figure[data-theme='acceder-droits'] .bar[data-code='93010']")
    assert "أقل من 5" in small.text_content()
    assert page.locator("#qpv figure[data-code='QN07511M']").is_visible()
    # By name, in Arabic too.
    page.fill("#search", "Sevran")
    page.press("#search", "Enter")
    page.wait_for_selector("body[data-compared='3']")
    assert query(page)["territories"] == "93010,QN07511M,93071"
    assert page.locator("#charts figure").count() >= 3
    shot(page, "compare-ar")
    assert page.errors == []


def test_an_unknown_code_in_a_shared_address_is_dropped_and_said(desktop, pins):
    page = desktop()
    page.goto("/compare/?territories=93010,QN99999Z")
    page.wait_for_selector("body[data-compared='1']")
    assert "QN99999Z" in page.inner_text("#search-status")
    assert query(page)["territories"] == "93010"


def wait_for_heatmap(page, features: int) -> None:
    page.wait_for_selector("canvas.maplibregl-canvas")
    page.wait_for_selector(f"body[data-choropleth-features='{features}']", timeout=20000)
    page.wait_for_function("() => window.cartoHeatmap.loaded() && window.cartoHeatmap.areTilesLoaded()")


def legend_texts(page, selector: str) -> list[str]:
    return page.locator(f"{selector} .legend-row").all_inner_texts()


def test_heatmap_in_french_classes_legends_labels_and_the_state_of_needs(desktop, pins, shot):
    page = desktop()
    page.goto("/heatmap/")
    wait_for_heatmap(page, 130)
    assert [current for *_, current in nav_links(page)] == [None, None, "page", None]
    drawn = page.evaluate(
        "() => new Set(window.cartoHeatmap.querySourceFeatures('choropleth').map(f => f.properties.code)).size"
    )
    assert drawn == 130
    # A legend entry for every layer shown: classes with readable bounds, the heat, the QPV outlines.
    classes = legend_texts(page, "#legend")
    assert classes[0] == "aucun signalement" and classes[-1] == "moins de 5 signalements (non publié)"
    assert all(re.search(r"pour (1|10|100) 000 habitants$", label) for label in classes[1:-1])
    assert legend_texts(page, "#heat-legend") == ["Chaleur : densité des signalements, de faible à forte"]
    assert legend_texts(page, "#qpv-legend") == ["Contour d'un quartier prioritaire (QPV)"]
    assert page.is_hidden("#hex-legend")
    page.wait_for_selector("body[data-qpv-outlines='175']")

    # Hovering Bondy names it with its count and rate.
    x, y = page.evaluate(
        "() => { const p = window.cartoHeatmap.project([2.483, 48.902]); return [p.x, p.y]; }"
    )
    box = page.locator("#heatmap").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => document.getElementById('hover').textContent.startsWith('Bondy')")
    assert "10 signalements" in page.inner_text("#hover")
    shot(page, "heatmap-fr")

    # Hexagons: shown with their legend; the QPV outlines hidden with theirs; the address follows.
    page.check("#show-hex")
    page.wait_for_selector("body[data-hexagons]")
    assert legend_texts(page, "#hex-legend")[0].startswith("Hexagones")
    page.wait_for_function("() => window.cartoHeatmap.loaded()")
    counts = page.evaluate(
        "() => window.cartoHeatmap.querySourceFeatures('hexbins').map(f => f.properties.count)"
    )
    assert counts and all(count == "<5" or count >= 5 for count in counts)
    page.uncheck("#show-qpv")
    assert page.is_hidden("#qpv-legend")
    assert query(page)["layers"] == "heat,hexagons"

    # Names as labels once zoomed in.
    assert page.locator(".map-label").count() == 0
    page.evaluate("() => window.cartoHeatmap.jumpTo({center: [2.47, 48.90], zoom: 12})")
    page.wait_for_function("() => Number(document.body.dataset.labels) > 0")
    assert "Bondy" in page.locator(".map-label").all_inner_texts()

    # The state of needs of a QPV, chosen by name; the address holds it.
    page.select_option("#board-territory", label="Goutte D'Or")
    page.wait_for_selector("body[data-needs='QN07511M']")
    board = page.locator("#needs")
    assert board.locator("h2").inner_text() == "État des besoins : Goutte D'Or"
    assert "Besoins couverts par une réponse du Grand Paris" in board.inner_text()
    assert "Dans le quartier" in board.locator(".needs-qpv").inner_text()
    assert board.locator(".needs-table").first.locator("tbody tr").count() >= 1
    assert query(page)["territory"] == "QN07511M"
    shot(page, "heatmap-needs-fr")

    with page.expect_download() as png:
        page.click("#png")
    assert png.value.suggested_filename == "carto-carte.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    png.value.save_as(SCREENSHOTS / "heatmap-export.png")

    again = desktop()
    again.goto(page.url)
    again.wait_for_selector("body[data-needs='QN07511M']")
    assert again.is_checked("#show-hex") and not again.is_checked("#show-qpv")
    assert page.errors == [] and again.errors == []


def test_heatmap_in_arabic_is_right_to_left_with_its_legends_and_a_board_in_arabic(desktop, pins, shot):
    page = desktop(locale="ar")
    page.goto("/heatmap/?level=ept&territory=T8")
    wait_for_heatmap(page, 12)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.locator("h1").inner_text() == "أين تتركّز الاحتياجات"
    assert legend_texts(page, "#legend")[0] == "لا بلاغات"
    assert legend_texts(page, "#qpv-legend") == ["حدود حي ذي أولوية (QPV)"]
    page.wait_for_selector("body[data-needs='T8']")
    assert page.locator("#needs h2").inner_text().startswith("حالة الاحتياجات")
    # Clicking Bondy on the map opens its own board.
    page.select_option("#level", "commune")
    wait_for_heatmap(page, 130)
    click_map_at(page, "cartoHeatmap", *BONDY, "#heatmap")
    page.wait_for_selector("body[data-needs='93010']")
    assert query(page)["territory"] == "93010"
    shot(page, "heatmap-ar")
    assert page.errors == []


@pytest.mark.parametrize("path", ["/compare/", "/heatmap/", "/coverage/"])
def test_every_dashboard_has_the_same_navigation_and_language_switch(client, db, path):
    """Also puts a `db` test in this module, so pytest-django sets up the test database."""
    html = client.get(path).content.decode()
    for href in NAV:
        assert f'href="{href}"' in html
    assert html.count('aria-current="page"') == 1
    assert 'id="lang"' in html
    assert 'src="/static/frontend/dashboard.css"' not in html  # a stylesheet, linked
    assert 'href="/static/frontend/dashboard.css"' in html
