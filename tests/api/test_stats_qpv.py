"""GET /api/stats/qpv/{code}/: a QPV against the rest of its commune, on the real QPV contours."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carto.models import Pin, Territory
from tests.api.test_stats import PARIS_POPULATION, QueryLog
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

GOUTTE_DOR = (2.3560, 48.8850)  # rue Polonceau, Paris 18e: inside QPV QN07511M
REPUBLIQUE = (2.3632, 48.8675)  # place de la République, Paris 3e: in no QPV
# QN09309M Le Plateau - Les Malassis - La Noue crosses the Bagnolet / Montreuil limit.
MALASSIS = (2.4280, 48.8716)  # Bagnolet side of the QPV
BAGNOLET = (2.4162, 48.8735)  # Bagnolet centre, outside the QPV
MONTREUIL = (2.4420, 48.8610)  # Montreuil, outside the QPV


def pins(place, n, **extra) -> list[Pin]:
    return [make_pin(*place, **extra) for _ in range(n)]


def test_the_goutte_dor_is_compared_with_the_rest_of_paris_per_1000_inhabitants(client):
    pins(GOUTTE_DOR, 6)
    pins(GOUTTE_DOR, 5, theme="logement")
    pins(REPUBLIQUE, 5)
    pins(BELLEVILLE, 5)  # in Grand Belleville, another QPV: part of the rest of Paris
    pins(BONDY, 7)  # another commune: in neither
    goutte = Territory.objects.get(code="QN07511M")
    assert goutte.population and goutte.population < 20_000  # INSEE's QPV population, not Paris's

    response = client.get("/api/stats/qpv/QN07511M/")
    assert response.status_code == 200
    body = response.json()
    qpv, rest = body["qpv"], body["rest_of_commune"]
    assert (qpv["code"], qpv["name"], qpv["population"]) == ("QN07511M", goutte.name, goutte.population)
    assert qpv["pins"] == 11
    assert qpv["per_1000"] == pytest.approx(11_000 / goutte.population, abs=1e-6)
    assert qpv["by_theme"] == {"acceder-droits": 6, "logement": 5}
    assert rest["communes"] == [{"code": "75056", "name": "Paris", "population": PARIS_POPULATION}]
    assert rest["population"] == PARIS_POPULATION - goutte.population
    assert rest["pins"] == 10
    assert rest["per_1000"] == pytest.approx(10_000 / (PARIS_POPULATION - goutte.population), abs=1e-6)
    assert body["ratio"] == round(qpv["per_1000"] / rest["per_1000"], 2)
    assert body["ratio"] > 100  # 11 pins for ~9,000 people against 10 for ~2 million


def test_a_qpv_across_two_communes_is_compared_with_the_rest_of_both(client):
    pins(MALASSIS, 5)
    pins(BAGNOLET, 5)
    pins(MONTREUIL, 6)
    qpv = Territory.objects.get(code="QN09309M")
    communes = {c.code: c.population for c in qpv.communes.all()}
    assert set(communes) == {"93006", "93048"}  # Bagnolet, Montreuil

    body = client.get("/api/stats/qpv/QN09309M/").json()
    assert body["qpv"]["pins"] == 5
    rest = body["rest_of_commune"]
    assert [c["code"] for c in rest["communes"]] == ["93006", "93048"]
    assert rest["population"] == sum(communes.values()) - qpv.population
    assert rest["pins"] == 11
    assert rest["per_1000"] == pytest.approx(11_000 / rest["population"], abs=1e-6)


def test_small_counts_inside_or_outside_are_suppressed_without_a_rate(client):
    pins(GOUTTE_DOR, 3)
    pins(GOUTTE_DOR, 5, theme="logement")
    pins(REPUBLIQUE, 4)
    body = client.get("/api/stats/qpv/QN07511M/").json()
    qpv, rest = body["qpv"], body["rest_of_commune"]
    assert qpv["pins"] == 8
    assert qpv["by_theme"] == {"acceder-droits": "<5", "logement": 5}
    assert qpv["by_theme_per_1000"]["acceder-droits"] is None
    assert rest["pins"] == "<5" and rest["per_1000"] is None and rest["by_theme"] == {"acceder-droits": "<5"}
    assert body["ratio"] is None  # never a ratio beside a suppressed count


def test_the_comparison_follows_the_theme_and_the_period_with_its_trend(client):
    now = timezone.now()
    old = pins(GOUTTE_DOR, 5)
    Pin.objects.filter(pk__in=[p.pk for p in old]).update(created_at=now - dt.timedelta(days=45))
    pins(GOUTTE_DOR, 10)
    pins(GOUTTE_DOR, 6, theme="logement")
    pins(REPUBLIQUE, 5)
    since = (now - dt.timedelta(days=30)).date().isoformat()
    until = (now + dt.timedelta(days=2)).date().isoformat()
    body = client.get(
        "/api/stats/qpv/QN07511M/", {"since": since, "until": until, "theme": "acceder-droits"}
    ).json()
    assert body["qpv"]["pins"] == 10
    assert body["qpv"]["trend"] == {"current": 10, "previous": 5, "change_pct": 100.0}
    assert body["rest_of_commune"]["pins"] == 5
    assert body["rest_of_commune"]["trend"] == {"current": 5, "previous": 0, "change_pct": None}
    assert body["period"]["since"].startswith(since)


@pytest.mark.parametrize("code", ["QN00000X", "75056", "T1", "nope", "QN07511M'--"])
def test_an_unknown_qpv_code_is_a_404_in_the_json_error_shape(client, code):
    response = client.get(f"/api/stats/qpv/{code}/")
    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "unknown_qpv" and error["fields"] == {"code": [code]}


def test_bad_filters_are_400_before_the_qpv_is_looked_up(client):
    response = client.get("/api/stats/qpv/QN07511M/", {"theme": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_theme"


def test_the_comparison_takes_three_queries_whatever_the_pins(client):
    from django.db import connection

    pins(GOUTTE_DOR, 6)
    pins(REPUBLIQUE, 5)
    log = QueryLog()
    with connection.execute_wrapper(log):
        assert client.get("/api/stats/qpv/QN07511M/").status_code == 200
    assert len(log.statements) == 3  # the QPV, its communes, the counts of both sides
