"""Privacy: canary values sent with pins never come back from a public endpoint, nor reach the logs."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.contrib.auth.models import Group, User

from carto.models import Actor

NAME, EMAIL, PHONE = "Jeanne Canarinette", "jeanne.canari@example.org", "+33612345678"
DEVICE_TOKEN = f"{NAME} {EMAIL} {PHONE}"
EXACT = (2.381234, 48.871234)  # a doorstep near Belleville, to 6 decimals
CANARIES = [NAME, EMAIL, PHONE, "Canarinette", "canari", "612345678", DEVICE_TOKEN, "2.381234", "48.871234",
            "2.38123,", "48.87123,", "canary-aidant"]  # fmt: skip


def _pin(client, **extra):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "need",
        "theme": "logement",  # a sensitive theme: blurred by up to 150 m
        "text": "Moisissures dans la chambre des enfants",
        "location": {"type": "Point", "coordinates": list(EXACT)},
        **extra,
    }
    return data, client.post("/api/pins/", json.dumps(data), content_type="application/json",
                             HTTP_X_DEVICE_TOKEN=DEVICE_TOKEN)  # fmt: skip


@pytest.mark.django_db
def test_no_canary_in_any_public_response_or_log(client, caplog, settings):
    settings.MEDIA_ROOT = "/tmp/carto-privacy-test-media"
    caplog.set_level(logging.DEBUG)
    aidant = User.objects.create_user(username="canary-aidant", email=EMAIL, first_name=NAME)
    aidant.groups.add(Group.objects.get_or_create(name="aidant")[0])
    responses = []
    data, created = _pin(client)
    responses.append(created)
    pin_id = created.json()["id"]
    client.force_login(aidant)
    structure = Actor.objects.first().source_id
    _, mediated = _pin(client, mediated={"structure": structure, "consent": True})
    responses.append(mediated)
    client.logout()
    anonymous = client.__class__()
    token = {"HTTP_X_DEVICE_TOKEN": DEVICE_TOKEN}
    responses += [
        anonymous.get("/api/pins/"),
        anonymous.get(
            f"/api/pins/?bbox={EXACT[0] - 0.01},{EXACT[1] - 0.01},{EXACT[0] + 0.01},{EXACT[1] + 0.01}"
        ),
        anonymous.get(f"/api/pins/{pin_id}/"),
        anonymous.get(f"/api/pins/{mediated.json()['id']}/"),
        anonymous.get(f"/api/pins/{pin_id}/", **token),
        anonymous.get(f"/api/pins/mine/?ids={pin_id}", **token),
        anonymous.get("/api/pins/similar/", {"lat": EXACT[1], "lon": EXACT[0], "text": "moisissures"}),
        anonymous.post(f"/api/pins/{pin_id}/support/", **token),
        anonymous.delete(f"/api/pins/{pin_id}/support/", **token),
        # Error bodies too: a replay with another body, a point outside, a throttled or bad request.
        anonymous.post(
            "/api/pins/", json.dumps({**data, "text": "autre"}), content_type="application/json", **token
        ),
        anonymous.post(
            "/api/pins/",
            json.dumps({**data, "client_uuid": str(uuid.uuid4()), "text": ""}),
            content_type="application/json",
            **token,
        ),  # fmt: skip
        anonymous.post(
            "/api/pins/batch/",
            {"pins": [{**data, "client_uuid": str(uuid.uuid4())}]},
            content_type="application/json",
            **token,
        ),  # fmt: skip
    ]
    assert [r.status_code for r in responses][:3] == [201, 201, 200]
    assert responses[-3].status_code == 422 and responses[-2].status_code == 400
    for response in responses:
        text = response.content.decode()
        for canary in CANARIES:
            assert canary.lower() not in text.lower(), (response.request["PATH_INFO"], canary)
    logs = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    for canary in CANARIES:
        assert canary.lower() not in logs.lower()


@pytest.mark.django_db
def test_pins_from_one_doorstep_share_one_public_point_that_no_average_brings_back(client):
    """Attack pass: 25 pins at one point, theme sante (150 m blur), had public points 76-148 m away
    but a mean 15 m away; the map clusters published that mean."""
    from django.contrib.gis.geos import Point

    from carto.geo import to_storage
    from carto.models import Pin
    from tests.factories import make_pin

    exact = to_storage(Point(*EXACT, srid=4326))
    pins = [make_pin(*EXACT, theme="sante", text=f"Pas de médecin {n}") for n in range(25)]
    public = [Pin.objects.get(pk=p.pk).public_location for p in pins]
    assert all(75 <= exact.distance(p) <= 150 + 15 for p in public)
    mean = Point(sum(p.x for p in public) / 25, sum(p.y for p in public) / 25, srid=exact.srid)
    assert exact.distance(mean) >= 75
    bbox = f"{EXACT[0] - 0.05},{EXACT[1] - 0.05},{EXACT[0] + 0.05},{EXACT[1] + 0.05}"
    for zoom in range(8, 18):
        for cluster in client.get("/api/pins/clusters/", {"bbox": bbox, "zoom": zoom}).json()["clusters"]:
            where = to_storage(Point(cluster["lon"], cluster["lat"], srid=4326))
            assert exact.distance(where) >= 75, (zoom, exact.distance(where))
    assert len({(round(p.x, 3), round(p.y, 3)) for p in public}) == 1  # one public point for the doorstep
