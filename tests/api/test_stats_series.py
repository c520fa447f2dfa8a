"""GET /api/stats/compare/?series=month: each territory's pins per month, suppressed like every count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carto.models import Pin
from carto.pin_filter import PinFilter
from carto.stats.series import MAX_MONTHS, series_months
from tests.api.test_stats import BONDY_POPULATION, QueryLog
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db


def pins_in_month(place, n: int, months_ago: int) -> None:
    """`n` pins created on the 15th, `months_ago` months before this one (server time zone)."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - months_ago
    day = timezone.make_aware(dt.datetime(index // 12, index % 12 + 1, 15, 12))
    created = [make_pin(*place) for _ in range(n)]
    Pin.objects.filter(pk__in=[p.pk for p in created]).update(created_at=day)


def test_the_series_lists_every_month_of_the_last_year_with_small_months_suppressed(client):
    from django.db import connection

    pins_in_month(BONDY, 6, months_ago=2)
    pins_in_month(BONDY, 3, months_ago=1)
    pins_in_month(BELLEVILLE, 5, months_ago=0)
    log = QueryLog()
    with connection.execute_wrapper(log):
        body = client.get("/api/stats/compare/", {"territories": "93010,75056", "series": "month"}).json()
    assert len(log.statements) == 2  # the comparison, then the series
    bondy, paris = body["territories"]
    assert len(bondy["series"]) == 12
    this_month = timezone.localdate().strftime("%Y-%m")
    assert bondy["series"][-1]["month"] == this_month
    assert [m["pins"] for m in bondy["series"][-3:]] == [6, "<5", 0]
    assert bondy["series"][-3]["per_1000"] == pytest.approx(6000 / BONDY_POPULATION, abs=1e-6)
    assert bondy["series"][-2]["per_1000"] is None  # no rate beside "<5"
    assert [m["pins"] for m in paris["series"][-3:]] == [0, 0, 5]


def test_without_the_option_the_comparison_has_no_series(client):
    body = client.get("/api/stats/compare/", {"territories": "93010"}).json()
    assert "series" not in body["territories"][0]


def test_the_series_covers_the_period_asked_and_sums_to_its_count(client):
    pins_in_month(BONDY, 5, months_ago=3)
    pins_in_month(BONDY, 7, months_ago=1)
    today = timezone.localdate()
    since = (today.replace(day=1) - dt.timedelta(days=95)).replace(day=1)
    params = {"territories": "93010", "series": "month", "since": since.isoformat()}
    bondy = client.get("/api/stats/compare/", params).json()["territories"][0]
    assert bondy["series"][0]["month"] == since.strftime("%Y-%m")
    assert sum(m["pins"] for m in bondy["series"]) == bondy["pins"] == 12


def test_a_long_period_keeps_its_last_36_months():
    now = timezone.now()
    months = series_months(PinFilter(since=now - dt.timedelta(days=3650)))
    assert len(months) == MAX_MONTHS
    assert months[-1] == timezone.localdate().replace(day=1)


def test_a_bad_series_option_is_a_400(client):
    response = client.get("/api/stats/compare/", {"territories": "93010", "series": "week"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_series"
