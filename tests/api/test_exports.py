"""GET /api/exports/pins.csv and .geojson: public fields, public location, formula-safe CSV, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from carto.exports.cells import NUMBER, safe_cell
from carto.geo import to_api
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

PRIVATE = {
    "location",
    "author",
    "device_hash",
    "ip_hash",
    "client_uuid",
    "mediated_by",
    "consent",
    "spam_score",
}


def body(response) -> bytes:
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content)


def read_csv(response) -> list[dict]:
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheet users
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv_holds_visible_pins_with_public_fields_and_public_location(client):
    pin = make_pin(*BELLEVILLE, text="Pas d'accès à la CAF près de chez moi")
    make_pin(*BONDY, status="hidden")
    rows = read_csv(client.get("/api/exports/pins.csv"))
    assert len(rows) == 1
    row = rows[0]
    assert not PRIVATE & set(row)
    assert row["id"] == str(pin.id) and row["theme"] == "acceder-droits" and row["commune"] == "75056"
    assert row["text"] == "Pas d'accès à la CAF près de chez moi"
    public = to_api(pin.public_location)
    assert (float(row["lon"]), float(row["lat"])) == pytest.approx((public.x, public.y), abs=1e-5)


@pytest.mark.parametrize(
    "text,expected",
    [
        ('=HYPERLINK("http://evil.example","clic")', '\'=HYPERLINK("http://evil.example","clic")'),
        # A number (a phone number) names no function, cell or program: kept as written (carto.exports.cells).
        ("+33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("+33 6 12 34 56 78 appelez-moi", "'+33 6 12 34 56 78 appelez-moi"),
        ("-1 banc cassé", "'-1 banc cassé"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("Sonnette\x07 cassée\x1b", "Sonnette cassée"),
        ("Rien de spécial", "Rien de spécial"),
    ],
)
def test_csv_cells_are_formula_safe_and_free_of_control_characters(client, text, expected):
    make_pin(*BELLEVILLE, text=text)
    assert read_csv(client.get("/api/exports/pins.csv"))[0]["text"] == expected


def test_a_leading_tab_or_carriage_return_is_neutralised():
    assert safe_cell("\t=1+1") == "'\t=1+1"
    assert safe_cell("\r=1+1") == "'=1+1"
    assert safe_cell(None) == "" and safe_cell(3) == "3"


def test_exports_take_the_same_filters(client):
    make_pin(*BELLEVILLE, theme="logement")
    make_pin(*BELLEVILLE, kind="proposal")
    assert [r["theme"] for r in read_csv(client.get("/api/exports/pins.csv", {"theme": "logement"}))] == [
        "logement"
    ]
    assert [r["kind"] for r in read_csv(client.get("/api/exports/pins.csv", {"kind": "proposal"}))] == [
        "proposal"
    ]
    assert read_csv(client.get("/api/exports/pins.csv", {"since": "2999-01-01"})) == []


def test_the_geojson_export_is_a_feature_collection_of_public_points(client):
    pin = make_pin(*BELLEVILLE)
    response = client.get("/api/exports/pins.geojson")
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["id"] == pin.id
    assert not PRIVATE & set(feature["properties"])
    public = to_api(pin.public_location)
    assert feature["geometry"]["coordinates"] == pytest.approx([public.x, public.y], abs=1e-5)


@pytest.mark.parametrize(
    "query",
    ["theme=nope", "kind=rumour", "status=hidden", "since=demain", "since=2025-06-01&until=2025-01-01"],
)
def test_bad_export_filters_are_400_in_the_json_error_shape(client, query):
    response = client.get(f"/api/exports/pins.csv?{query}")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Every ASCII character, a few Unicode ones and runs of them, in front of a formula.
PREFIXES = [chr(c) for c in range(128)] + [
    "\u00a0",
    "\u200b",
    "\ufeff",
    "\u2028",
    " \u0001",
    "\u0001\u001b",
    "  ",
]


@pytest.mark.parametrize("prefix", PREFIXES, ids=lambda p: "+".join(f"U{ord(c):04X}" for c in p))
def test_no_prefix_lets_a_formula_through_in_any_text_cell(prefix):
    for formula in ('=HYPERLINK("http://evil.example","x")', "+1", "-1", "@SUM(A1)"):
        cell = safe_cell(prefix + formula)
        if NUMBER.fullmatch(cell):  # "+1", "-1": a number, which a spreadsheet may compute but never runs
            continue
        assert not cell.startswith(FORMULA_TRIGGERS), repr(cell)
        assert not cell.lstrip(" \t\n").startswith(FORMULA_TRIGGERS) or cell.startswith("'"), repr(cell)


def test_the_attack_pass_payload_is_neutralised_in_the_text_and_language_columns(client):
    payload = '\u0001=HYPERLINK("http://evil.example","x")'
    make_pin(*BELLEVILLE, text=payload, language="\u001b=1+1")
    row = read_csv(client.get("/api/exports/pins.csv"))[0]
    assert row["text"] == "'" + payload[1:]
    assert not row["language"].startswith(FORMULA_TRIGGERS)
