"""One public pin, every surface: list, detail, create, exports, tiles and Open311 agree field by field for
the same pin, and none of them names a private field. This is what keeps private fields out when one of
the five hand-written shapes changes."""

from __future__ import annotations

import csv
import io
import json
import uuid

import mapbox_vector_tile
import pytest

from carto.models import Pin
from carto.services.clustering import cluster_assign
from tests.api.test_tiles import pin_tile, tile_of
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

TOKEN = "device-token-shape-0123456789"
EXACT = (2.384812, 48.871834)  # rue de Belleville, Paris 20e
PRIVATE = {"location", "device_hash", "ip_hash", "author", "author_id", "request_fingerprint", "client_uuid",
           "mediated_by", "mediated_by_id", "spam_score"}  # fmt: skip


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def close(a: float, b: float, decimals: int = 5) -> bool:
    return abs(a - b) <= 1.5 * 10**-decimals


def test_every_public_surface_gives_the_same_pin_and_no_private_field(client):
    created = client.post(
        "/api/pins/",
        json.dumps({"client_uuid": str(uuid.uuid4()), "kind": "need", "theme": "acceder-droits",
                    "text": "Pas d'endroit pour imprimer mes papiers CAF",
                    "location": {"type": "Point", "coordinates": list(EXACT)}}),
        content_type="application/json", HTTP_X_DEVICE_TOKEN=TOKEN,
    )  # fmt: skip
    assert created.status_code == 201
    pin = Pin.objects.get(pk=created.json()["id"])
    twin = make_pin(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF")
    cluster_assign(pin)
    cluster_assign(twin)

    detail = client.get(f"/api/pins/{pin.pk}/").json()
    bbox = f"{BELLEVILLE[0] - 0.01},{BELLEVILLE[1] - 0.01},{BELLEVILLE[0] + 0.01},{BELLEVILLE[1] + 0.01}"
    listed = next(f for f in client.get("/api/pins/", {"bbox": bbox}).json()["features"] if f["id"] == pin.pk)
    row = next(r for r in csv.DictReader(io.StringIO(streamed(client.get("/api/exports/pins.csv")).decode("utf-8-sig"))) if r["id"] == str(pin.pk))  # fmt: skip
    exported = next(f for f in json.loads(streamed(client.get("/api/exports/pins.geojson")))["features"] if f["properties"]["id"] == pin.pk)  # fmt: skip
    report = next(r for r in client.get("/open311/v2/requests.json").json() if r["service_request_id"] == str(pin.pk))  # fmt: skip

    public = detail["properties"]
    lon, lat = detail["geometry"]["coordinates"]
    tile = mapbox_vector_tile.decode(pin_tile(client, *tile_of(lon, lat, 15)).content)["pins"]["features"]
    drawn = next(f for f in tile if f["properties"]["id"] == pin.pk)
    # The list and the detail: the same object, field by field (cluster included, now that it exists).
    assert listed == detail
    assert public["cluster"] is not None and public["cluster"]["pin_count"] == 2
    # The create answer: the same fields, before clustering (a pin is clustered after its commit).
    made = created.json()
    assert {
        k: v
        for k, v in made["properties"].items()
        if k not in ("cluster", "status_reason", "status_reason_code")
    } == {k: v for k, v in public.items() if k != "cluster"}
    assert made["geometry"] == detail["geometry"]
    # The exports.
    for field in ("kind", "theme", "text", "language", "status"):
        assert row[field] == public[field] == exported["properties"][field], field
    assert int(row["support_count"]) == public["support_count"] == exported["properties"]["support_count"]
    assert row["commune"] == public["territories"]["commune"]["code"]
    assert close(float(row["lon"]), lon) and close(float(row["lat"]), lat)
    assert [round(c, 5) for c in exported["geometry"]["coordinates"]] == [round(lon, 5), round(lat, 5)]
    # The tile: its public fields, at the public point (to tile precision).
    for field in ("kind", "theme", "status", "support_count"):
        assert drawn["properties"][field] == public[field], field
    # Open311.
    assert report["description"] == public["text"] and report["service_code"] == public["theme"]
    assert close(report["lat"], lat) and close(report["long"], lon)
    assert report["address"] == public["territories"]["commune"]["name"]
    # The public point is not the exact one, and no surface names a private field or the exact point.
    assert not (close(lon, EXACT[0], 4) and close(lat, EXACT[1], 4))
    surfaces = {
        "detail": public, "list": listed["properties"], "create": made["properties"], "csv": row,
        "geojson": exported["properties"], "tile": drawn["properties"], "open311": report,
    }  # fmt: skip
    for name, fields in surfaces.items():
        assert not PRIVATE & set(fields), (name, PRIVATE & set(fields))
        text = json.dumps(fields, default=str)
        assert f"{EXACT[0]:.5f}" not in text and f"{EXACT[1]:.5f}" not in text, name
