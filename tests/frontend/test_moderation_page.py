"""The /moderation/ queue page in headless Chromium: a moderator hides and restores pins, and teaches the
clustering ("same need" / "not the same need")."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from carto.models import AuditEntry, ClusterDecision, Pin, PinCluster
from tests.factories import BELLEVILLE, BONDY, VILLENEUVE_LA_GARENNE, make_pin
from tests.jobs import jobs_done

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


def test_a_moderator_says_a_loosely_clustered_pin_is_not_the_same_need(phone, shot):
    moderator = User.objects.create_user(username="modo", password=PASSWORD)
    moderator.groups.add(Group.objects.get_or_create(name="moderator")[0])
    pins = [
        make_pin(*BELLEVILLE, text="Pas d'endroit pour imprimer mes papiers CAF"),
        make_pin(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF"),
        make_pin(*VILLENEUVE_LA_GARENNE, text="Pas d'imprimante pour mes papiers CAF"),
    ]
    jobs_done()  # clustered by the job worker
    cluster = PinCluster.objects.select_related("cluster").get(pin=pins[0]).cluster
    assert {PinCluster.objects.get(pin=p).cluster_id for p in pins} == {cluster.id}
    page = phone().new_page()
    sign_in(page, "modo")
    page.wait_for_selector("#moderation[data-ready='true']")

    # The queue's "clustering" list: each pin with its text, its cluster's label and the two buttons.
    section = page.locator("#clustering-section")
    assert section.is_visible()
    assert section.locator("h2").inner_text() == "Regroupements à vérifier (3)"
    item = page.locator("#clustering li").first
    pin_id = int(item.get_attribute("data-pin"))
    assert item.get_attribute("data-cluster") == str(cluster.id)
    assert item.locator(".text").inner_text() == Pin.objects.get(pk=pin_id).text
    assert item.locator(".cluster-label").inner_text() == f"Groupe : {cluster.label}"
    assert item.get_by_role("button", name="Même besoin", exact=True).count() == 1
    shot(page, "moderation-clustering")

    item.get_by_role("button", name="Pas le même besoin", exact=True).click()
    page.wait_for_selector(f"#clustering li[data-pin='{pin_id}']", state="detached")
    assert page.locator("#status").inner_text() == "Noté : pas le même besoin, l'épingle a quitté le groupe."
    assert page.locator("#clustering li").count() == 2

    # The API and the database: out of the cluster into one of its own, the decision stored by the moderator.
    assert page.request.get(f"/api/pins/{pin_id}/").json()["properties"]["cluster"] is None
    queue = page.request.get("/api/moderation/queue/").json()
    assert pin_id not in [p["id"] for p in queue["clustering"]]
    link = PinCluster.objects.get(pin_id=pin_id)
    assert link.cluster_id != cluster.id and link.pinned_by_curator
    others = [p.id for p in pins if p.id != pin_id]
    assert PinCluster.objects.filter(cluster_id=cluster.id).count() == 2
    decision = ClusterDecision.objects.get()
    assert (decision.same, decision.created_by_id) == (False, moderator.id)
    assert {decision.pin_id, decision.other_pin_id} == {pin_id, min(others)}
    assert AuditEntry.objects.filter(action="cluster_decision", actor=moderator).count() == 1


def test_the_page_is_refused_to_other_signed_in_roles(phone, queue):
    page = phone().new_page()
    sign_in(page, "someone")
    assert page.locator("body").inner_text() != ""
    response = page.goto("/moderation/")
    assert response.status == 403
