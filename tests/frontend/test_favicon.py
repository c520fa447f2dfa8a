"""The pages' icon: linked from every page's head, a few hundred bytes, cached long, and /favicon.ico no 404."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/", "/compare/", "/heatmap/", "/coverage/", "/accounts/login/"])
def test_every_page_links_a_small_long_cached_icon(client, page):
    html = client.get(page).content.decode()
    head = html.split("</head>")[0]
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', head)
    assert link, "the page links its icon"
    icon = client.get(link.group(1))
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    body = b"".join(icon.streaming_content)
    assert body.startswith(b"<svg") and len(body) < 1000
    max_age = int(re.search(r"max-age=(\d+)", icon["Cache-Control"]).group(1))
    assert "public" in icon["Cache-Control"] and max_age >= 7 * 86400


def test_favicon_ico_is_the_same_icon_not_a_404(client):
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico["Content-Type"] == "image/svg+xml"
    assert b"".join(ico.streaming_content) == b"".join(client.get("/favicon.svg").streaming_content)
