"""GET /api/pins/, /api/pins/{id}/ and /api/pins/mine/: public features only, paginated, capped."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carto.models import Pin
from tests.factories import BELLEVILLE, BONDY, make_pin

TOKEN = "device-token-0123456789abcdef"
PUBLIC_PROPERTIES = {
    "id", "kind", "theme", "text", "language", "status", "support_count", "created_at", "territories", "photos",
    "mediated", "cluster",
}  # fmt: skip


@pytest.mark.django_db
def test_the_list_is_a_feature_collection_of_visible_pins_newest_first(client):
    older = make_pin(text="Premier")
    newer = make_pin(*BONDY, text="Second")
    make_pin(text="Caché", status=Pin.Status.HIDDEN)
    make_pin(text="En attente", status=Pin.Status.PENDING)
    data = client.get("/api/pins/").json()
    assert data["type"] == "FeatureCollection"
    assert data["count"] == 2 and data["next"] is None
    assert [f["id"] for f in data["features"]] == [newer.pk, older.pk]
    assert set(data["features"][0]["properties"]) == PUBLIC_PROPERTIES


@pytest.mark.django_db
def test_bbox_theme_kind_and_territory_filter_the_list(client):
    paris = make_pin(theme="acceder-droits", kind="need")
    bondy = make_pin(*BONDY, theme="mobilite", kind="proposal")
    around_bondy = f"{BONDY[0] - 0.01},{BONDY[1] - 0.01},{BONDY[0] + 0.01},{BONDY[1] + 0.01}"

    def ids(query):
        return [f["id"] for f in client.get(f"/api/pins/?{query}").json()["features"]]

    assert ids(f"bbox={around_bondy}") == [bondy.pk]
    assert ids("theme=acceder-droits") == [paris.pk]
    assert ids("theme=quotidien") == [bondy.pk]  # a group of themes matches its children
    assert ids("kind=proposal") == [bondy.pk]
    assert ids("territory=93010") == [bondy.pk]
    assert ids("territory=T1") == [paris.pk]
    assert ids("status=received") == [bondy.pk, paris.pk]
    assert ids("since=2000-01-01") == [bondy.pk, paris.pk]
    assert ids("since=2999-01-01") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("bbox=1,2,3", "invalid_bbox"),
        ("theme=nope", "unknown_theme"),
        ("kind=x", "invalid_kind"),
        ("status=pending", "invalid_status"),
        ("territory=99999", "unknown_territory"),
        ("since=yesterday", "invalid_date"),
        ("page=0", "invalid_page"),
    ],
)
def test_bad_list_parameters_are_400(client, query, code):
    response = client.get(f"/api/pins/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_the_list_is_paginated_with_a_next_link(client, settings):
    settings.CARTO_PINS_PAGE_SIZE = 2
    pins = [make_pin(text=f"Besoin {i}") for i in range(3)]
    first = client.get("/api/pins/?kind=need").json()
    assert first["count"] == 3 and len(first["features"]) == 2
    assert "page=2" in first["next"] and "kind=need" in first["next"]
    second = client.get(first["next"]).json()
    assert [f["id"] for f in second["features"]] == [pins[0].pk]
    assert second["next"] is None


@pytest.mark.django_db
def test_past_the_feature_cap_the_list_points_to_clusters_and_tiles(client, settings):
    settings.CARTO_PINS_PAGE_SIZE = 1
    settings.CARTO_PINS_MAX_FEATURES = 2
    for i in range(3):
        make_pin(text=f"Besoin {i}")
    response = client.get("/api/pins/")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_many_features"
    assert "/api/pins/clusters/" in error["message"] and "/api/tiles/pins/" in error["message"]


@pytest.mark.django_db
def test_the_list_takes_a_bounded_number_of_queries(client):
    for i in range(20):
        make_pin(text=f"Besoin {i}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/pins/")
    assert len(response.json()["features"]) == 20
    assert len(queries) <= 4  # count, rows, photos (+ session-free auth)


@pytest.mark.django_db
def test_the_detail_of_a_visible_pin_has_no_status_reason(client):
    pin = make_pin()
    response = client.get(f"/api/pins/{pin.pk}/")
    assert response.status_code == 200
    assert set(response.json()["properties"]) == PUBLIC_PROPERTIES


@pytest.mark.django_db
def test_a_hidden_pin_is_404_for_strangers_but_shown_to_its_device_with_the_reason(client):
    response = client.post(
        "/api/pins/",
        {
            "client_uuid": "0b6f2f0e-8a8e-4b8c-9d51-3f9a2b1c7e11",
            "kind": "need",
            "theme": "mobilite",
            "text": "Trottoir impraticable",
            "location": {"type": "Point", "coordinates": list(BELLEVILLE)},
        },
        content_type="application/json",
        HTTP_X_DEVICE_TOKEN=TOKEN,
    )
    pin_id = response.json()["id"]
    Pin.objects.filter(pk=pin_id).update(status=Pin.Status.HIDDEN, status_reason="Doublon")
    assert client.get(f"/api/pins/{pin_id}/").status_code == 404
    assert client.get(f"/api/pins/{pin_id}/", HTTP_X_DEVICE_TOKEN="someone-else-token-xyz").status_code == 404
    own = client.get(f"/api/pins/{pin_id}/", HTTP_X_DEVICE_TOKEN=TOKEN).json()
    assert own["properties"]["status"] == "hidden" and own["properties"]["status_reason"] == "Doublon"
    assert own["properties"]["status_reason_code"] == ""  # a moderator's words, shown as written


@pytest.mark.django_db
def test_a_signed_in_author_sees_their_pending_pin(client, resident):
    pin = make_pin(author=resident, status=Pin.Status.PENDING, status_reason="Awaiting moderation")
    client.force_login(resident)
    assert client.get(f"/api/pins/{pin.pk}/").json()["properties"]["status_reason"] == "Awaiting moderation"


@pytest.mark.django_db
def test_an_unknown_pin_is_404(client):
    response = client.get("/api/pins/987654/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_mine_lists_only_this_devices_pins_whatever_their_status(client):
    from carto.services.privacy import keyed_hash

    mine = make_pin(device_hash=keyed_hash(TOKEN, purpose="device"), status=Pin.Status.PENDING)
    other = make_pin(device_hash=keyed_hash("another-device-token", purpose="device"))
    response = client.get(f"/api/pins/mine/?ids={mine.pk},{other.pk}", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert response.status_code == 200
    [feature] = response.json()["features"]
    assert feature["id"] == mine.pk and feature["properties"]["status"] == "pending"
    assert "status_reason" in feature["properties"]


@pytest.mark.django_db
def test_mine_needs_a_device_token_and_integer_ids(client):
    assert client.get("/api/pins/mine/?ids=1").json()["error"]["code"] == "device_token_required"
    bad = client.get("/api/pins/mine/?ids=1,x", HTTP_X_DEVICE_TOKEN=TOKEN)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_ids"
