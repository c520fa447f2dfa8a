"""Browser tests: one live server and one headless Chromium per session, a fresh phone context per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CARTO_CHROMIUM", "/usr/bin/chromium")
# Playwright's sync API runs an asyncio loop in the test thread; Django would refuse ORM calls from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser, server, committed_db):
    """A fresh 360×740 touch context (own storage, own service worker), in French unless a test says otherwise."""
    contexts = []

    def open_context(locale: str = "fr-FR", **extra):
        context = browser.new_context(**PHONE, locale=locale, base_url=server.url, **extra)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """Save a phone-size screenshot of a step for a person to look at (artifacts/ is git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return save
