"""The first paint already speaks the resident's language: the server writes the page's words, and the page asks
for its catalogue and its themes with its modules, not once its scripts have run."""

from __future__ import annotations

import re

import pytest

from frontend import words


@pytest.mark.browser
@pytest.mark.parametrize(
    ("locale", "add", "direction", "title"),
    [("fr-FR", "Ajouter", "ltr", "carto — Grand Paris"), ("ar", "أضف", "rtl", "كارتو — باريس الكبرى")],
)
def test_before_any_script_runs_the_page_reads_in_the_phones_language(phone, locale, add, direction, title):
    # A slow network delivers the HTML seconds before the modules: what it shows then is what is painted.
    page = phone(locale=locale, java_script_enabled=False).new_page()
    page.goto("/")
    assert page.locator("#add").inner_text().strip() == add
    assert page.locator("html").get_attribute("dir") == direction
    assert page.title() == title
    assert page.locator('[data-step="what"] .kind[data-kind="need"]').text_content().strip() != ""
    assert page.locator("#place-search").get_attribute("placeholder") != ""


@pytest.mark.browser
def test_the_catalogue_and_the_themes_are_asked_for_by_the_page_itself_once(phone):
    page = phone(locale="zh-CN").new_page()
    page.goto("/")
    page.locator('html[lang="zh"] #add').wait_for()
    page.wait_for_function("() => document.querySelector('#add').textContent.includes('添加')")
    page.locator("#add").tap()
    page.locator('[data-step="where"] [data-action="next"]').tap()
    page.locator('.theme[data-theme="logement"]').wait_for()
    fetched = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter((r) => /\\/i18n\\/\\w+\\.json|\\/api\\/themes\\//.test(r.name))"
        ".map((r) => [new URL(r.name).pathname, r.initiatorType])"
    )
    # Started by the HTML's <link rel=preload> (initiator "link"), in parallel with the modules, and used by
    # the scripts (no second request).
    assert sorted(fetched) == [["/api/themes/", "link"], ["/static/frontend/i18n/zh.json", "link"]]


@pytest.mark.browser
def test_a_language_chosen_on_the_phone_is_the_one_the_server_writes_next_time(phone):
    context = phone(locale="fr-FR")
    page = context.new_page()
    page.goto("/")
    page.wait_for_function("() => document.querySelector('#add').textContent.includes('Ajouter')")
    page.locator("#lang").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    html = page.request.get("/").text()  # the phone's next visit, its cookies with it
    assert '<span data-i18n="nav.add">Add</span>' in html
    assert '<html lang="en" dir="ltr">' in html


def test_the_server_and_i18n_js_know_the_same_languages_and_the_same_right_to_left_ones():
    script = (words.CATALOGUES.parent / "i18n.js").read_text("utf-8")
    languages = re.search(r"export const LANGUAGES = \[([^\]]*)\]", script)[1]
    rtl = re.search(r"const RTL = new Set\(\[([^\]]*)\]\)", script)[1]
    assert tuple(re.findall(r'"(\w+)"', languages)) == words.LANGUAGES
    assert set(re.findall(r'"(\w+)"', rtl)) == words.RTL
    assert {path.stem for path in words.CATALOGUES.glob("*.json")} == set(words.LANGUAGES)


def test_a_returning_phone_gets_the_same_page_as_a_304_and_another_language_afresh(client, db):
    first = client.get("/", HTTP_ACCEPT_LANGUAGE="fr", HTTP_ACCEPT_ENCODING="gzip")
    assert first.status_code == 200
    etag = first["ETag"]  # weak once gzipped: W/"…"
    again = client.get("/", HTTP_ACCEPT_LANGUAGE="fr", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content) == (304, b"")
    arabic = client.get("/", HTTP_ACCEPT_LANGUAGE="ar", HTTP_IF_NONE_MATCH=etag)
    assert arabic.status_code == 200
    assert '<html lang="ar" dir="rtl">' in arabic.content.decode()


def test_a_signed_in_aidants_page_carries_no_etag(client, aidant):
    client.force_login(aidant)
    response = client.get("/")
    assert response.status_code == 200
    assert "ETag" not in response
    assert response["Cache-Control"] == "no-store"
