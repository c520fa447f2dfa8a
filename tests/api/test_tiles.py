"""GET /api/tiles/pins/{z}/{x}/{y}.mvt and /api/tiles/territories/…: decoded with a real MVT decoder."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest
from django.core.cache import cache
from django.db.models import Sum

from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_tile_cache():
    # Test transactions never commit, so the map version never bumps between tests: start each cold.
    cache.clear()


PUBLIC_PROPERTIES = {"id", "kind", "theme", "status", "support_count", "count"}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The slippy-map tile containing a WGS84 point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def pin_tile(client, z, x, y, **params):
    return client.get(f"/api/tiles/pins/{z}/{x}/{y}.mvt", params)


def decode(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content)


def test_a_high_zoom_tile_holds_the_pin_with_public_fields_only(client):
    pin = make_pin(*BELLEVILLE)
    layers = decode(pin_tile(client, *tile_of(*BELLEVILLE, 15)))
    features = layers["pins"]["features"]
    assert len(features) == 1
    properties = features[0]["properties"]
    assert set(properties) == PUBLIC_PROPERTIES
    assert properties["id"] == pin.id
    assert properties["theme"] == "acceder-droits"
    assert properties["status"] == "received"
    assert not {"text", "location", "author", "device_hash", "ip_hash"} & set(properties)
    assert features[0]["geometry"]["type"] == "Point"


def test_hidden_and_pending_pins_are_not_in_tiles(client):
    make_pin(*BELLEVILLE, status="pending")
    make_pin(*BELLEVILLE, status="hidden")
    visible = make_pin(*BELLEVILLE)
    features = decode(pin_tile(client, *tile_of(*BELLEVILLE, 15)))["pins"]["features"]
    assert [f["properties"]["id"] for f in features] == [visible.id]


def test_the_pin_is_drawn_at_its_public_location_not_its_private_one(client):
    pin = make_pin(*BELLEVILLE)
    z, x, y = tile_of(*BELLEVILLE, 18)
    features = decode(pin_tile(client, z, x, y)).get("pins", {}).get("features", [])
    # The blur moves the pin by at least half the theme's radius: whether it stays in this z18 tile
    # (~150 m) or not, its drawn position must be the public one.
    public = pin.public_location.transform(3857, clone=True)
    size = 2 * 20037508.342789244 / 2**z
    expected = (
        ((public.x + 20037508.342789244) / size - x) * 4096,
        (1 - ((20037508.342789244 - public.y) / size - y)) * 4096,
    )
    for feature in features:
        gx, gy = feature["geometry"]["coordinates"]
        assert abs(gx - expected[0]) <= 1 and abs(gy - expected[1]) <= 1


def test_filters_theme_kind_and_since_select_pins(client):
    make_pin(*BELLEVILLE, theme="acceder-droits", kind="need")
    make_pin(*BELLEVILLE, theme="logement", kind="proposal")
    tile = tile_of(*BELLEVILLE, 14)
    assert len(decode(pin_tile(client, *tile, theme="logement"))["pins"]["features"]) == 1
    assert len(decode(pin_tile(client, *tile, kind="need"))["pins"]["features"]) == 1
    assert len(decode(pin_tile(client, *tile, theme="numerique"))["pins"]["features"]) == 1  # a group
    assert decode(pin_tile(client, *tile, since="2999-01-01")) == {}


def test_a_low_zoom_tile_is_aggregated_and_counts_every_make_pin(client):
    for _ in range(3):
        make_pin(*BELLEVILLE)
    for _ in range(2):
        make_pin(*BONDY, theme="logement")
    make_pin(*BONDY, status="hidden")
    z, x, y = tile_of(*BELLEVILLE, 8)
    assert (z, x, y) == tile_of(*BONDY, 8)
    response = pin_tile(client, z, x, y)
    features = decode(response)["pins"]["features"]
    assert sum(f["properties"]["count"] for f in features) == 5
    assert all(set(f["properties"]) == {"count"} for f in features)
    assert len(response.content) < 500_000
    logement = decode(pin_tile(client, z, x, y, theme="logement"))["pins"]["features"]
    assert sum(f["properties"]["count"] for f in logement) == 2
    # status is not part of the stored cells: the same grid computed from the pins
    received = decode(pin_tile(client, z, x, y, status="received"))["pins"]["features"]
    assert sum(f["properties"]["count"] for f in received) == 5


def test_tiles_carry_cache_headers_and_answer_304_to_a_matching_etag(client):
    make_pin(*BELLEVILLE)
    tile = tile_of(*BELLEVILLE, 15)
    first = pin_tile(client, *tile)
    assert "max-age" in first["Cache-Control"]
    again = client.get(f"/api/tiles/pins/{tile[0]}/{tile[1]}/{tile[2]}.mvt", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_a_new_pin_bumps_the_version_so_cached_tiles_are_not_served(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_pin(*BELLEVILLE)
    tile = tile_of(*BELLEVILLE, 15)
    first = pin_tile(client, *tile)
    assert len(decode(first)["pins"]["features"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        make_pin(*BELLEVILLE)
    second = pin_tile(client, *tile)
    assert second["ETag"] != first["ETag"]
    assert len(decode(second)["pins"]["features"]) == 2


def test_territory_tiles_hold_communes_ept_and_arrondissements(client):
    response = client.get("/api/tiles/territories/{}/{}/{}.mvt".format(*tile_of(*BELLEVILLE, 9)))
    layers = decode(response)
    assert {"communes", "ept", "arrondissements"} <= set(layers)
    names = {f["properties"]["name"] for f in layers["communes"]["features"]}
    assert {"Paris", "Bondy"} <= names
    assert "Paris 20e Arrondissement" in {
        f["properties"]["name"] for f in layers["arrondissements"]["features"]
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/tiles/pins/23/0/0.mvt",
        "/api/tiles/pins/-1/0/0.mvt",
        "/api/tiles/pins/3/8/0.mvt",
        "/api/tiles/pins/3/0/8.mvt",
        "/api/tiles/pins/a/0/0.mvt",
        "/api/tiles/pins/3/1.5/0.mvt",
        "/api/tiles/territories/30/0/0.mvt",
        "/api/tiles/pins/14/8300/5634.mvt?theme=nope",
        "/api/tiles/pins/14/8300/5634.mvt?status=hidden",
        "/api/tiles/pins/14/8300/5634.mvt?since=yesterday",
    ],
)
def test_bad_tile_requests_are_400_in_the_json_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 400
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}


def test_the_rebuilt_aggregates_equal_the_ones_kept_up_to_date_on_insert():
    from django.core.management import call_command

    from carto.models import PinCell, PinHex

    for place in (BELLEVILLE, BONDY, BELLEVILLE):
        make_pin(*place)
    make_pin(*BONDY, status="hidden")
    cell_key = ("zoom", "cx", "cy", "theme_id", "kind", "month", "count")
    hex_key = ("zoom", "i", "j", "theme_id", "kind", "month", "count")
    kept = set(PinCell.objects.filter(count__gt=0).values_list(*cell_key))
    kept_hex = set(PinHex.objects.filter(count__gt=0).values_list(*hex_key))
    call_command("rebuild_aggregates", verbosity=0)
    rebuilt = set(PinCell.objects.values_list(*cell_key))
    rebuilt_hex = set(PinHex.objects.values_list(*hex_key))
    assert kept == rebuilt and kept_hex == rebuilt_hex
    assert len({c[0] for c in rebuilt}) == 5 and len({h[0] for h in rebuilt_hex}) == 5  # zooms 8 to 12
    assert sum(h[-1] for h in rebuilt_hex if h[0] == 12) == 3  # the hidden pin is in neither


def _aggregate_totals() -> tuple[int, int]:
    """Pins counted at z12 in the square cells (the same in their totals, at z12 and at the rim zoom 14) and in
    the hexagons (the same in their totals)."""
    from carto.models import PinCell, PinCellTotal, PinHex, PinHexTotal

    def counted(model, zoom: int) -> int:
        return model.objects.filter(zoom=zoom).aggregate(n=Sum("count"))["n"] or 0

    cells, hexagons = counted(PinCell, 12), counted(PinHex, 12)
    assert counted(PinCellTotal, 12) == counted(PinCellTotal, 14) == cells
    assert counted(PinHexTotal, 12) == hexagons
    return cells, hexagons


def _rebuilt_equals_kept() -> bool:
    from django.core.management import call_command

    from carto.models import PinCell, PinCellTotal, PinHex, PinHexTotal

    fields = ("zoom", "theme_id", "kind", "month", "count")
    total = ("zoom", "cx", "cy", "count")
    hex_total = ("zoom", "i", "j", "count")

    def rounded(rows):  # float sums of coordinates: equal to the centimetre
        return {(*row[:4], round(row[4], 2), round(row[5], 2)) for row in rows}

    kept = (
        set(PinCell.objects.filter(count__gt=0).values_list("cx", "cy", *fields)),
        set(PinHex.objects.filter(count__gt=0).values_list("i", "j", *fields)),
        rounded(PinCellTotal.objects.filter(count__gt=0).values_list(*total, "sum_x", "sum_y")),
        set(PinHexTotal.objects.filter(count__gt=0).values_list(*hex_total)),
    )
    call_command("rebuild_aggregates", verbosity=0)
    return kept == (
        set(PinCell.objects.values_list("cx", "cy", *fields)),
        set(PinHex.objects.values_list("i", "j", *fields)),
        rounded(PinCellTotal.objects.values_list(*total, "sum_x", "sum_y")),
        set(PinHexTotal.objects.values_list(*hex_total)),
    )


def test_every_write_to_a_pin_moves_the_aggregates_in_the_same_transaction():
    """The trigger on carto_pin: any status, an edit that changes what is counted, a delete, a raw update."""
    from django.contrib.gis.geos import Point
    from django.db import connection

    from carto.models import Pin, Theme

    for status in Pin.Status.values:  # counted exactly when the public can see the pin
        make_pin(*BELLEVILLE, status=status)
    visible = len(Pin.VISIBLE_STATUSES)
    assert _aggregate_totals() == (visible, visible)
    pin = make_pin(*BONDY)
    assert _aggregate_totals() == (visible + 1, visible + 1)
    pin.status = Pin.Status.HIDDEN
    pin.save(update_fields=["status"])
    assert _aggregate_totals() == (visible, visible)
    pin.status = Pin.Status.RECEIVED
    pin.save()  # a full save, as the admin does
    assert _aggregate_totals() == (visible + 1, visible + 1)
    # Moved 5 km and re-themed: counted once, in its new cell and theme.
    pin.public_location = Point(
        pin.public_location.x + 5000, pin.public_location.y, srid=pin.public_location.srid
    )
    pin.theme = Theme.objects.get(slug="logement")
    pin.save(update_fields=["public_location", "theme"])
    assert _aggregate_totals() == (visible + 1, visible + 1)
    assert _rebuilt_equals_kept()
    with connection.cursor() as cursor:  # a write outside the services
        cursor.execute("UPDATE carto_pin SET status = 'hidden' WHERE id = %s", [pin.id])
    assert _aggregate_totals() == (visible, visible)
    Pin.objects.filter(status=Pin.Status.RECEIVED).delete()
    assert _aggregate_totals() == (visible - 1, visible - 1)
    assert _rebuilt_equals_kept()


def test_a_support_bumps_the_version_so_the_tile_shows_the_new_count(
    client, django_capture_on_commit_callbacks
):
    from carto.services.supports import pin_support

    with django_capture_on_commit_callbacks(execute=True):
        pin = make_pin(*BELLEVILLE)
    tile = tile_of(*BELLEVILLE, 15)
    first = pin_tile(client, *tile)
    with django_capture_on_commit_callbacks(execute=True):
        pin_support(pin_id=pin.pk, device_hash="a-neighbour")
    second = pin_tile(client, *tile)
    assert second["ETag"] != first["ETag"]
    assert decode(second)["pins"]["features"][0]["properties"]["support_count"] == 1
