"""GET/POST /api/pins/{id}/comments/: residents and signed-in roles comment; hidden comments are not shown."""

from __future__ import annotations

import pytest

from carto.models import AuditEntry
from tests.factories import make_pin

pytestmark = pytest.mark.django_db

DEVICE = "commenting-device-00001"


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", **headers)


def test_an_association_posts_an_update_shown_with_its_role_not_its_name(client, association):
    pin = make_pin()
    client.force_login(association)
    response = post(client, f"/api/pins/{pin.pk}/comments/", {"text": "Point d'impression gratuit le mardi"})
    assert response.status_code == 201, response.content
    client.logout()
    results = client.get(f"/api/pins/{pin.pk}/comments/").json()["results"]
    assert [(c["text"], c["role"]) for c in results] == [
        ("Point d'impression gratuit le mardi", "association")
    ]
    assert "association" not in {k for c in results for k in c if k != "role"}


def test_a_device_comments_and_needs_a_token(client):
    pin = make_pin()
    assert post(client, f"/api/pins/{pin.pk}/comments/", {"text": "Moi aussi"}).status_code == 400
    response = post(
        client, f"/api/pins/{pin.pk}/comments/", {"text": "Moi aussi"}, HTTP_X_DEVICE_TOKEN=DEVICE
    )
    assert response.status_code == 201 and response.json()["role"] == "resident"


def test_hidden_comments_are_not_shown_and_come_back_on_restore(client, moderator, resident):
    pin = make_pin()
    comment_id = post(
        client, f"/api/pins/{pin.pk}/comments/", {"text": "Un commentaire"}, HTTP_X_DEVICE_TOKEN=DEVICE
    ).json()["id"]
    client.force_login(resident)
    assert post(client, f"/api/moderation/comments/{comment_id}/hide/", {"reason": "x"}).status_code == 403
    client.force_login(moderator)
    assert (
        post(client, f"/api/moderation/comments/{comment_id}/hide/", {"reason": "Insulte"}).status_code == 200
    )
    assert client.get(f"/api/pins/{pin.pk}/comments/").json()["results"] == []
    assert (
        post(client, f"/api/moderation/comments/{comment_id}/restore/", {"reason": "Erreur"}).status_code
        == 200
    )
    assert len(client.get(f"/api/pins/{pin.pk}/comments/").json()["results"]) == 1
    assert AuditEntry.objects.filter(object_type="comment").count() == 2


def test_spammy_comments_are_held_and_comments_on_hidden_pins_are_refused(client):
    pin = make_pin()
    held = post(
        client,
        f"/api/pins/{pin.pk}/comments/",
        {"text": "VISIT http://spam.example.com http://spam.example.net NOW"},
        HTTP_X_DEVICE_TOKEN=DEVICE,
    ).json()
    assert held["status"] == "hidden" and held["status_reason"]
    assert client.get(f"/api/pins/{pin.pk}/comments/").json()["results"] == []
    hidden = make_pin(status="hidden")
    assert (
        post(
            client, f"/api/pins/{hidden.pk}/comments/", {"text": "x"}, HTTP_X_DEVICE_TOKEN=DEVICE
        ).status_code
        == 404
    )
    assert client.get(f"/api/pins/{hidden.pk}/comments/").status_code == 404
    assert (
        post(
            client, f"/api/pins/{pin.pk}/comments/", {"text": "", "x": 1}, HTTP_X_DEVICE_TOKEN=DEVICE
        ).status_code
        == 400
    )


def test_rotating_device_tokens_from_one_network_hit_the_network_limit(client, settings):
    settings.CARTO_THROTTLE_DEVICE_PER_HOUR = 100
    settings.CARTO_THROTTLE_IP_PER_HOUR = 5
    pin = make_pin()
    codes = [
        post(client, f"/api/pins/{pin.pk}/comments/", {"text": f"Moi aussi, bâtiment {n}"},
             HTTP_X_DEVICE_TOKEN=f"fresh-token-{n:04d}", REMOTE_ADDR="203.0.113.50").status_code
        for n in range(8)
    ]  # fmt: skip
    assert codes == [201] * 5 + [429] * 3
