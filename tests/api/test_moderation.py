"""Flags, status workflow, timeline, moderation queue and actions, audit log, token sign-in: over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from carto.models import Pin
from tests.factories import BELLEVILLE, make_pin

pytestmark = pytest.mark.django_db

DEVICE = "flagging-device-000001"


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", **headers)


def test_a_device_flags_once_and_a_second_flag_is_200(client):
    pin = make_pin()
    assert (
        post(client, f"/api/pins/{pin.pk}/flags/", {"reason": "spam"}, HTTP_X_DEVICE_TOKEN=DEVICE).status_code
        == 201
    )
    assert (
        post(client, f"/api/pins/{pin.pk}/flags/", {"reason": "spam"}, HTTP_X_DEVICE_TOKEN=DEVICE).status_code
        == 200
    )
    assert pin.flags.count() == 1


def test_bad_flags_are_refused(client):
    pin = make_pin()
    assert (
        post(client, f"/api/pins/{pin.pk}/flags/", {"reason": "ugly"}, HTTP_X_DEVICE_TOKEN=DEVICE).status_code
        == 400
    )
    assert post(client, f"/api/pins/{pin.pk}/flags/", {"reason": "spam"}).status_code == 400
    hidden = make_pin(status="hidden")
    response = post(client, f"/api/pins/{hidden.pk}/flags/", {"reason": "spam"}, HTTP_X_DEVICE_TOKEN=DEVICE)
    assert response.status_code == 404


def test_status_changes_follow_the_roles_and_show_on_the_public_timeline(client, association, resident):
    pin = make_pin()
    url = f"/api/pins/{pin.pk}/status/"
    assert post(client, url, {"to": "acknowledged"}).status_code == 401
    client.force_login(resident)
    assert post(client, url, {"to": "acknowledged"}).status_code == 403
    client.force_login(association)
    response = post(client, url, {"to": "acknowledged", "note": "Nous passons mardi"})
    assert response.status_code == 200, response.content
    assert post(client, url, {"to": "resolved"}).status_code == 409
    client.logout()
    timeline = client.get(f"/api/pins/{pin.pk}/timeline/").json()["timeline"]
    assert [(e["from"], e["to"], e["note"], e["role"]) for e in timeline] == [
        ("received", "acknowledged", "Nous passons mardi", "association")
    ]
    assert "name" not in timeline[0] and "association" not in str(timeline[0]["created_at"])


def test_mass_assignment_through_the_pins_api_is_refused(client, moderator):
    payload = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "need",
        "theme": "acceder-droits",
        "text": "Besoin d'un point d'impression",
        "location": {"type": "Point", "coordinates": list(BELLEVILLE)},
    }
    for extra in (
        {"status": "resolved"},
        {"hidden": False},
        {"author": moderator.pk},
        {"mediated_by": moderator.pk},
    ):
        response = post(client, "/api/pins/", {**payload, **extra, "client_uuid": str(uuid.uuid4())})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_field"
    assert not Pin.objects.exists()
    response = post(
        client, f"/api/pins/{make_pin().pk}/status/", {"to": "acknowledged", "author": moderator.pk}
    )
    assert response.status_code in (400, 401)


def test_the_queue_lists_pending_and_flagged_pins_for_moderators_only(client, moderator, resident):
    pending = make_pin(status="pending", status_reason="Awaiting moderation: spam")
    flagged = make_pin()
    post(client, f"/api/pins/{flagged.pk}/flags/", {"reason": "insult"}, HTTP_X_DEVICE_TOKEN=DEVICE)
    assert client.get("/api/moderation/queue/").status_code == 401
    client.force_login(resident)
    assert client.get("/api/moderation/queue/").status_code == 403
    client.force_login(moderator)
    body = client.get("/api/moderation/queue/").json()
    assert [p["id"] for p in body["pending"]] == [pending.pk]
    assert [(p["id"], p["flags"]) for p in body["flagged"]] == [(flagged.pk, {"insult": 1})]
    assert not {"author", "device_hash", "location", "ip_hash"} & set(body["flagged"][0])


@pytest.mark.parametrize("op", ["hide", "restore", "redact"])
def test_moderation_actions_are_refused_to_other_roles(client, resident, association, elected_official, op):
    pin = make_pin(status="hidden" if op == "restore" else "received")
    data = {"reason": "x", "text": "y"} if op == "redact" else {"reason": "x"}
    assert post(client, f"/api/moderation/pins/{pin.pk}/{op}/", data).status_code == 401
    for user in (resident, association, elected_official):
        client.force_login(user)
        assert post(client, f"/api/moderation/pins/{pin.pk}/{op}/", data).status_code == 403


def test_redact_edits_out_personal_data_and_the_audit_is_for_admins_only(client, moderator, resident):
    pin = make_pin(text="Mme Dupont au 3e étage, tel 0612345678, besoin d'aide papiers")
    client.force_login(moderator)
    response = post(
        client,
        f"/api/moderation/pins/{pin.pk}/redact/",
        {"reason": "Nom et téléphone", "text": "Besoin d'aide pour les papiers"},
    )
    assert response.status_code == 200 and response.json()["text"] == "Besoin d'aide pour les papiers"
    assert client.get("/api/audit/").status_code == 403
    client.force_login(resident)
    assert client.get("/api/audit/").status_code == 403
    client.logout()
    assert client.get("/api/audit/").status_code == 401
    client.force_login(User.objects.create_superuser(username="root", password="x" * 20))
    entries = client.get("/api/audit/").json()["results"]
    assert [(e["action"], e["reason"], e["actor"]) for e in entries] == [
        ("pin_redact", "Nom et téléphone", "moderator")
    ]
    assert "0612345678" not in str(entries)


def test_a_token_signs_an_api_client_in(client, moderator):
    response = client.post(
        "/api/auth/token/", {"username": "moderator", "password": "correct horse battery staple"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert client.get("/api/moderation/queue/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    bad = client.post("/api/auth/token/", {"username": "moderator", "password": "wrong"})
    assert bad.status_code == 400


def test_a_token_expires_and_signing_in_again_gives_a_new_one(client, moderator, settings):
    from rest_framework.authtoken.models import Token

    body = client.post(
        "/api/auth/token/", {"username": "moderator", "password": "correct horse battery staple"}
    ).json()
    assert body["expires_at"]
    old = body["token"]
    # Older than CARTO_TOKEN_MAX_AGE_SECONDS (a token left on a shared computer two weeks ago).
    Token.objects.filter(key=old).update(
        created=timezone.now() - timedelta(seconds=settings.CARTO_TOKEN_MAX_AGE_SECONDS + 1)
    )
    refused = client.get("/api/moderation/queue/", HTTP_AUTHORIZATION=f"Token {old}")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert not Token.objects.filter(key=old).exists()
    new = client.post(
        "/api/auth/token/", {"username": "moderator", "password": "correct horse battery staple"}
    ).json()["token"]
    assert new != old
    assert client.get("/api/moderation/queue/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


def test_the_owner_sees_the_timeline_of_a_hidden_pin_but_the_public_does_not(client):
    from carto.services.privacy import keyed_hash

    pin = make_pin(status="hidden", device_hash=keyed_hash(DEVICE, purpose="device"))
    assert client.get(f"/api/pins/{pin.pk}/timeline/").status_code == 404
    assert client.get(f"/api/pins/{pin.pk}/timeline/", HTTP_X_DEVICE_TOKEN=DEVICE).status_code == 200
