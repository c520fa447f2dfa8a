"""GET /api/stats/needs/{code}/: the state of needs of an EPT or a QPV (top needs, themes, trend, coverage)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carto.importers.responses import responses_import
from carto.models import Pin, PinCluster, Response
from carto.services.clustering import cluster_assign
from carto.services.linking import response_link
from carto.services.supports import pin_support
from tests.api.test_stats_qpv import GOUTTE_DOR, MONTREUIL
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

PRINTING = "Pas d'endroit pour imprimer mes papiers CAF"
PHONE = "Ma mère ne sait pas utiliser son smartphone"


def voiced(place, n: int, text: str, theme: str = "acceder-droits", days_ago: int = 0) -> list[Pin]:
    """`n` pins of one need, each from its own device, clustered as after their commit."""
    created = [make_pin(*place, theme=theme, text=text) for _ in range(n)]
    if days_ago:
        Pin.objects.filter(pk__in=[p.pk for p in created]).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
    for pin in created:
        cluster_assign(pin)
    return created


def cluster_of(pin: Pin):
    return PinCluster.objects.get(pin=pin).cluster


def test_an_ept_lists_its_top_needs_with_trend_supports_and_coverage(client, association):
    printing = voiced(BONDY, 5, PRINTING) + voiced(MONTREUIL, 2, PRINTING)
    voiced(BONDY, 3, PRINTING, days_ago=120)  # the previous 90 days
    voiced(BELLEVILLE, 4, PRINTING)  # Paris: the same need, not in Est Ensemble
    phone = voiced(BONDY, 2, PHONE, theme="se-former")
    for n in range(6):
        pin_support(pin_id=phone[0].pk, device_hash=f"neighbour-{n}")
    voiced(BONDY, 4, PHONE, theme="se-former", days_ago=400)  # before both periods: nowhere
    assert len({cluster_of(p) for p in printing}) == 1
    responses_import()
    response_link(
        cluster=cluster_of(printing[0]),
        response=Response.objects.get(slug="france-services"),
        actor=association,
    )

    response = client.get("/api/stats/needs/T8/")
    assert response.status_code == 200
    body = response.json()
    assert body["territory"]["code"] == "T8" and body["territory"]["kind"] == "ept"
    assert body["pins"] == 9 and body["supports"] == 6
    assert body["per_1000"] == pytest.approx(9000 / body["territory"]["population"], abs=1e-6)
    assert body["trend"] == {"current": 9, "previous": "<5", "change_pct": None}
    # Needs ranked by voices in the territory: the phone (2 pins + 6 "moi aussi") before the printing (7 pins).
    phone_need, printing_need = body["needs"]
    assert phone_need["id"] == cluster_of(phone[0]).pk
    assert (phone_need["pins"], phone_need["supports"], phone_need["covered"]) == ("<5", 6, False)
    assert phone_need["responses"] == []
    assert printing_need["id"] == cluster_of(printing[0]).pk
    assert printing_need["pins"] == 7  # Bondy and Montreuil, not Belleville
    assert printing_need["trend"] == {"current": 7, "previous": "<5", "change_pct": None}
    assert printing_need["covered"] is True
    assert [r["slug"] for r in printing_need["responses"]] == ["france-services"]
    assert body["coverage"] == {"needs": 2, "covered": 1}
    assert body["covered_pins"] == 7
    themes = {t["slug"]: t for t in body["themes"]}
    assert themes["acceder-droits"]["pins"] == 7 and themes["acceder-droits"]["covered_pins"] == 7
    assert themes["se-former"]["pins"] == "<5" and themes["se-former"]["per_1000"] is None
    assert themes["se-former"]["supports"] == 6 and themes["se-former"]["covered_pins"] == 0


def test_a_qpv_board_counts_only_the_pins_of_the_quartier(client):
    voiced(GOUTTE_DOR, 6, PRINTING)
    voiced(BELLEVILLE, 5, PRINTING)
    body = client.get("/api/stats/needs/QN07511M/").json()
    assert body["territory"]["kind"] == "qpv"
    assert body["pins"] == 6
    assert body["per_1000"] == pytest.approx(6000 / body["territory"]["population"], abs=1e-6)
    assert [n["pins"] for n in body["needs"]] == [6]
    assert body["coverage"] == {"needs": 1, "covered": 0}


def test_the_period_and_the_theme_filter_the_board(client):
    voiced(BONDY, 5, PRINTING, days_ago=20)
    voiced(BONDY, 6, PRINTING, days_ago=50)
    voiced(BONDY, 5, PHONE, theme="se-former", days_ago=5)
    since = (timezone.now() - dt.timedelta(days=30)).date().isoformat()
    body = client.get("/api/stats/needs/93010/", {"since": since, "theme": "acceder-droits"}).json()
    assert body["pins"] == 5
    assert body["trend"] == {"current": 5, "previous": 6, "change_pct": -16.7}
    assert [t["slug"] for t in body["themes"]] == ["acceder-droits"]
    assert body["period"]["since"].startswith(since)


def test_a_territory_without_pins_has_an_empty_board(client):
    body = client.get("/api/stats/needs/T12/").json()
    assert (body["pins"], body["themes"], body["needs"]) == (0, [], [])
    assert body["coverage"] == {"needs": 0, "covered": 0}


@pytest.mark.parametrize("code", ["T13", "QN00000X", "nope-nope", "x" * 40])
def test_an_unknown_territory_is_a_404_in_the_json_error_shape(client, code):
    response = client.get(f"/api/stats/needs/{code}/")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert response.json()["error"]["code"] == "unknown_territory"


def test_a_bad_limit_is_a_400(client):
    response = client.get("/api/stats/needs/T8/", {"limit": "lots"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"


def test_the_board_takes_a_fixed_number_of_queries_whatever_the_needs(client):
    from django.db import connection

    from tests.api.test_stats import QueryLog

    voiced(BONDY, 5, PRINTING)
    voiced(BONDY, 5, PHONE, theme="se-former")
    log = QueryLog()
    with connection.execute_wrapper(log):
        assert client.get("/api/stats/needs/T8/").status_code == 200
    # The territory, its themes, how many needs and how many covered, the top needs, their responses.
    assert len(log.statements) == 6
