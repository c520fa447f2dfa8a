"""The /moderation/ queue page in headless Chromium: a moderator signs in, hides and restores a pin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from carto.models import AuditEntry, Pin
from tests.factories import make_pin

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
EVIL = '<img src=x onerror="window.pwned=1">Appelez le 06 12 34 56 78'


@pytest.fixture
def queue(committed_db):
    """A committed moderator, a pre-moderated pin whose text is markup, and a flagged pin."""
    user = User.objects.create_user(username="modo", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="moderator")[0])
    User.objects.create_user(username="someone", password=PASSWORD)
    pending = make_pin(status="pending", status_reason="Awaiting moderation: spam", text=EVIL)
    flagged = make_pin(text="Pas d'imprimerie publique dans le quartier")
    flagged.flags.create(device_hash="d1", reason="off_topic")
    return pending, flagged


def sign_in(page, username: str) -> None:
    page.goto("/moderation/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_a_moderator_hides_and_restores_pins_with_a_reason(phone, queue, shot):
    pending, flagged = queue
    page = phone().new_page()
    sign_in(page, "modo")
    page.wait_for_selector("#moderation[data-ready='true']")
    item = page.locator(f"#pending li[data-pin='{pending.pk}']")
    # The resident's text is shown as text, never run as markup.
    assert item.locator(".text").inner_text() == EVIL
    assert page.evaluate("window.pwned") is None
    assert (
        page.locator(f"#flagged li[data-pin='{flagged.pk}'] .flags").inner_text()
        == "Signalements : hors sujet × 1"
    )
    shot(page, "moderation-queue")

    # No reason, no action.
    page.locator(f"#flagged li[data-pin='{flagged.pk}'] [data-op='hide']").click()
    page.wait_for_selector("#status:has-text('raison')")
    flagged_item = page.locator(f"#flagged li[data-pin='{flagged.pk}']")
    flagged_item.locator(".why").fill("Hors sujet après vérification")
    flagged_item.locator("[data-op='hide']").click()
    # Reviewed: it leaves the queue.
    page.wait_for_selector(f"#flagged li[data-pin='{flagged.pk}']", state="detached")
    assert Pin.objects.get(pk=flagged.pk).status == "hidden"

    item = page.locator(f"#pending li[data-pin='{pending.pk}']")
    item.locator(".why").fill("Pas du spam")
    item.locator("[data-op='restore']").click()
    page.wait_for_selector(f"#pending li[data-pin='{pending.pk}']", state="detached")
    assert Pin.objects.get(pk=pending.pk).status == "received"
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {"pin_hide", "pin_restore"}


def test_the_page_is_refused_to_other_signed_in_roles(phone, queue):
    page = phone().new_page()
    sign_in(page, "someone")
    assert page.locator("body").inner_text() != ""
    response = page.goto("/moderation/")
    assert response.status == 403
