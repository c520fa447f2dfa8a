"""A pin hidden by a moderator leaves every public surface, and comes back on restore."""

from __future__ import annotations

import csv
import io
import json
import math

import mapbox_vector_tile
import pytest
from django.core.cache import cache

from carto.services.privacy import keyed_hash
from tests.factories import BELLEVILLE, make_pin
from tests.jobs import run_queued_jobs

pytestmark = pytest.mark.django_db

DEVICE = "device-of-the-author-0001"
TEXT = "Pas d'endroit pour imprimer mes papiers CAF pres du metro"
BBOX = f"{BELLEVILLE[0] - 0.02},{BELLEVILLE[1] - 0.02},{BELLEVILLE[0] + 0.02},{BELLEVILLE[1] + 0.02}"
OTHERS = 5  # enough for the victim's commune count not to be suppressed ("<5") once it is hidden


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tile(client, z: int) -> list[dict]:
    response = client.get("/api/tiles/pins/{}/{}/{}.mvt".format(*tile_of(*BELLEVILLE, z)))
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content).get("pins", {"features": []})
    return layer["features"]


def streamed(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def public_view(client, pin_id: int, cluster_id: int) -> dict:
    """What the public sees of the pin (ids) and of the counts that include it, surface by surface."""
    listed = client.get("/api/pins/", {"bbox": BBOX}).json()
    similar = client.get(
        "/api/pins/similar/",
        {"lat": BELLEVILLE[1], "lon": BELLEVILLE[0], "theme": "acceder-droits", "text": TEXT},
    ).json()
    map_clusters = client.get("/api/pins/clusters/", {"bbox": BBOX, "zoom": 14}).json()
    paris = next(
        row
        for row in client.get("/api/stats/territories/", {"level": "commune"}).json()["territories"]
        if row["code"] == "75056"
    )
    hexagons = client.get("/api/stats/hexbins/", {"zoom": 10}).json()["features"]
    rows = list(csv.DictReader(io.StringIO(streamed(client.get("/api/exports/pins.csv")))))
    geojson = json.loads(streamed(client.get("/api/exports/pins.geojson")))
    cluster = client.get(f"/api/clusters/{cluster_id}/")
    return {
        "list": pin_id in [f["id"] for f in listed["features"]] and listed["count"],
        "detail": client.get(f"/api/pins/{pin_id}/").status_code,
        "similar": pin_id in [r["id"] for r in similar["results"]],
        "map_clusters": map_clusters["total"],
        "tile_z15": pin_id in [f["properties"]["id"] for f in tile(client, 15)],
        "tile_z10": sum(f["properties"]["count"] for f in tile(client, 10)),
        "stats": paris["pins"],
        "hexbins": sum(
            h["properties"]["count"] for h in hexagons if isinstance(h["properties"]["count"], int)
        ),
        "csv": str(pin_id) in [r["id"] for r in rows],
        "geojson": pin_id in [f["properties"]["id"] for f in geojson["features"]],
        "cluster": cluster.status_code == 200
        and (pin_id in [p["id"] for p in cluster.json()["pins"]], cluster.json()["pin_count"]),
    }


def test_a_hidden_pin_leaves_every_public_surface_and_comes_back_on_restore(
    client, moderator, django_capture_on_commit_callbacks
):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(OTHERS):
            make_pin(*BELLEVILLE, text=TEXT)
        pin = make_pin(*BELLEVILLE, text=TEXT, device_hash=keyed_hash(DEVICE, purpose="device"))
    assert run_queued_jobs() == OTHERS + 1  # one clustering job per pin
    cluster_id = pin.cluster_link.cluster_id
    shown = {
        "list": OTHERS + 1,
        "detail": 200,
        "similar": True,
        "map_clusters": OTHERS + 1,
        "tile_z15": True,
        "tile_z10": OTHERS + 1,
        "stats": OTHERS + 1,
        "hexbins": OTHERS + 1,
        "csv": True,
        "geojson": True,
        "cluster": (True, OTHERS + 1),
    }
    assert public_view(client, pin.pk, cluster_id) == shown

    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/moderation/pins/{pin.pk}/hide/",
            {"reason": "Numéro de téléphone personnel dans le texte"},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    client.logout()
    assert public_view(client, pin.pk, cluster_id) == {
        "list": False,
        "detail": 404,
        "similar": False,
        "map_clusters": OTHERS,
        "tile_z15": False,
        "tile_z10": OTHERS,
        "stats": OTHERS,
        "hexbins": OTHERS,
        "csv": False,
        "geojson": False,
        "cluster": (False, OTHERS),
    }

    # Its author's device still sees it, hidden, and why.
    own = client.get(f"/api/pins/{pin.pk}/", HTTP_X_DEVICE_TOKEN=DEVICE).json()["properties"]
    assert own["status"] == "hidden"
    assert own["status_reason"] == "Numéro de téléphone personnel dans le texte"
    mine = client.get("/api/pins/mine/", {"ids": str(pin.pk)}, HTTP_X_DEVICE_TOKEN=DEVICE).json()
    assert [(f["id"], f["properties"]["status"]) for f in mine["features"]] == [(pin.pk, "hidden")]

    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/moderation/pins/{pin.pk}/restore/",
            {"reason": "L'auteur a retiré le numéro"},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert run_queued_jobs() == 1  # the restored pin goes back to its cluster
    client.logout()
    pin.refresh_from_db()
    assert public_view(client, pin.pk, pin.cluster_link.cluster_id) == shown
