"""GET /api/stats/qpv/{code}/needs/: a quartier's pins, "moi aussi" and top needs with where else they are
voiced, on the real QPV contours."""

from __future__ import annotations

import pytest
from django.db import connection

from carto.models import Pin
from carto.services.moderation import pin_set_status
from carto.services.supports import pin_support
from tests.api.test_stats import QueryLog
from tests.api.test_stats_needs import PHONE, PRINTING, cluster_of, voiced
from tests.api.test_stats_qpv import GOUTTE_DOR, MALASSIS, MONTREUIL
from tests.factories import BELLEVILLE, BONDY

pytestmark = pytest.mark.django_db

GRAND_BELLEVILLE = "QN07519M"  # Paris 11e and 20e
FRANC_MOISIN = (2.3842, 48.9177)  # QN09328M, Saint-Denis side (Franc Moisin - Cosmonautes - … - Landy)
URL = "/api/stats/qpv/{}/needs/"


def test_a_quartier_lists_its_needs_with_the_other_quartiers_and_communes_voicing_them(client):
    printing = voiced(BELLEVILLE, 5, PRINTING)
    voiced(GOUTTE_DOR, 2, PRINTING)  # another QPV of Paris: a quartier more, no commune more
    voiced(MALASSIS, 1, PRINTING)  # a QPV of Bagnolet: a quartier and a commune more
    voiced(MONTREUIL, 1, PRINTING)  # Montreuil outside any QPV: a commune more
    phone = voiced(BELLEVILLE, 2, PHONE, theme="se-former")
    for n in range(6):
        pin_support(pin_id=phone[0].pk, device_hash=f"neighbour-{n}")
    assert len({cluster_of(p) for p in printing}) == 1

    response = client.get(URL.format(GRAND_BELLEVILLE))
    assert response.status_code == 200
    body = response.json()
    assert body["qpv"]["code"] == GRAND_BELLEVILLE and body["qpv"]["name"] == "Grand Belleville"
    assert body["qpv"]["population"] > 10_000  # INSEE's population of the QPV, not of Paris
    assert body["qpv"]["communes"] == [{"code": "75056", "name": "Paris"}]
    assert "75120" in {a["code"] for a in body["qpv"]["arrondissements"]}
    assert (body["pins"], body["supports"]) == (7, 6)
    # Ranked by voices here: the phone (2 pins + 6 "moi aussi") before the printing (5 pins).
    phone_need, printing_need = body["needs"]
    assert phone_need["id"] == cluster_of(phone[0]).pk and phone_need["theme"] == "se-former"
    assert (phone_need["pins"], phone_need["supports"]) == ("<5", 6)
    assert phone_need["elsewhere"] == {"qpv": 0, "communes": 0}
    assert printing_need["id"] == cluster_of(printing[0]).pk
    assert printing_need["label"] == cluster_of(printing[0]).label and printing_need["label"]
    assert (printing_need["pins"], printing_need["supports"], printing_need["theme"]) == (
        5,
        0,
        "acceder-droits",
    )
    assert printing_need["elsewhere"] == {"qpv": 2, "communes": 2}


def test_pins_that_are_not_visible_count_nowhere_neither_here_nor_elsewhere(client):
    printing = voiced(BELLEVILLE, 5, PRINTING)
    held = voiced(BELLEVILLE, 1, PRINTING) + voiced(FRANC_MOISIN, 1, PRINTING) + voiced(BONDY, 1, PRINTING)
    assert {cluster_of(p) for p in held} == {cluster_of(printing[0])}
    # Through the service every path takes (moderation, reports, pre-moderation): clusters follow the status.
    for pin, status in zip(held, [Pin.Status.PENDING, Pin.Status.HIDDEN, Pin.Status.HIDDEN], strict=True):
        pin_set_status(pin=pin, to=status, reason="test", actor=None, role="moderation", public=False)

    body = client.get(URL.format(GRAND_BELLEVILLE)).json()
    assert body["pins"] == 5
    [need] = body["needs"]
    assert need["pins"] == 5 and need["elsewhere"] == {"qpv": 0, "communes": 0}
    # Public fields only: no pin, device, text of a pin other than the need's label, location.
    assert set(need) == {"id", "label", "theme", "pins", "supports", "elsewhere"}


def test_small_counts_are_suppressed_and_zero_stays_zero(client):
    voiced(GOUTTE_DOR, 3, PRINTING)
    body = client.get(URL.format("QN07511M")).json()
    assert (body["pins"], body["supports"]) == ("<5", 0)
    assert [(n["pins"], n["supports"]) for n in body["needs"]] == [("<5", 0)]
    assert body["qpv"]["arrondissements"] == [{"code": "75118", "name": "Paris 18e Arrondissement"}]


def test_a_quartier_across_two_communes_names_both_and_counts_neither_as_elsewhere(client):
    voiced(MALASSIS, 5, PRINTING)
    voiced(MONTREUIL, 1, PRINTING)  # Montreuil is one of the QPV's communes: not "another commune"
    body = client.get(URL.format("QN09309M")).json()
    assert [c["name"] for c in body["qpv"]["communes"]] == ["Bagnolet", "Montreuil"]
    assert body["qpv"]["arrondissements"] == []
    assert body["needs"][0]["elsewhere"] == {"qpv": 0, "communes": 0}


def test_a_quartier_without_pins_has_no_needs_and_the_limit_cuts_the_list(client):
    body = client.get(URL.format(GRAND_BELLEVILLE)).json()
    assert (body["pins"], body["supports"], body["needs"]) == (0, 0, [])
    voiced(BELLEVILLE, 1, PRINTING)
    voiced(BELLEVILLE, 1, PHONE, theme="se-former")
    assert len(client.get(URL.format(GRAND_BELLEVILLE), {"limit": 1}).json()["needs"]) == 1


@pytest.mark.parametrize("code", ["QN00000X", "75056", "T8", "nope-nope", "x" * 40, "QN07519m"])
def test_anything_but_a_known_qpv_code_is_a_404_in_the_json_error_shape(client, code):
    response = client.get(URL.format(code))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "unknown_qpv"


@pytest.mark.parametrize("limit", ["0", "11", "lots", "-1", "1.5", "٣"])
def test_a_bad_limit_is_a_400_in_the_json_error_shape(client, limit):
    response = client.get(URL.format(GRAND_BELLEVILLE), {"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert "limit" in response.json()["error"]["fields"]


def test_writing_to_it_is_a_405_in_the_json_error_shape(client):
    response = client.post(URL.format(GRAND_BELLEVILLE), {}, content_type="application/json")
    assert response.status_code == 405
    assert "error" in response.json()


def test_the_sheet_takes_a_fixed_number_of_queries_whatever_the_needs(client):
    voiced(BELLEVILLE, 5, PRINTING)
    voiced(BELLEVILLE, 5, PHONE, theme="se-former")
    voiced(GOUTTE_DOR, 5, PRINTING)
    log = QueryLog()
    with connection.execute_wrapper(log):
        assert client.get(URL.format(GRAND_BELLEVILLE)).status_code == 200
    # The QPV, its communes, its arrondissements, its totals, its top needs with their spread.
    assert len(log.statements) == 5


def test_the_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/stats/qpv/{code}/needs/"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["limit"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"qpv", "pins", "supports", "needs"}
