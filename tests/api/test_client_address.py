"""Attack pass: which network a request comes from, for every per-network limit (pins, supports, flags,
comments, Open311). One IPv6 /64 is one network; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from api.requester import client_ip, client_network
from carto.models import Pin
from config.networks import trusted_networks
from tests.factories import make_pin

pytestmark = pytest.mark.django_db


def flag(client, pin, **meta):
    return client.post(
        f"/api/pins/{pin.pk}/flags/",
        {"reason": "spam"},
        content_type="application/json",
        HTTP_X_DEVICE_TOKEN=secrets.token_hex(16),  # a fresh device each time: tokens cost nothing
        **meta,
    )


def test_three_reports_from_one_ipv6_64_do_not_hide_a_pin(client):
    pin = make_pin()
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::beef", "2001:db8:1:2:ffff::7"):
        assert flag(client, pin, REMOTE_ADDR=host).status_code == 201
    pin.refresh_from_db()
    assert pin.status == Pin.Status.RECEIVED


def test_three_reports_from_three_networks_still_hide_it(client):
    pin = make_pin()
    for host in ("2001:db8:1:2::1", "2001:db8:1:3::1", "192.0.2.7"):
        flag(client, pin, REMOTE_ADDR=host)
    pin.refresh_from_db()
    assert pin.status == Pin.Status.HIDDEN


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(client, settings):
    settings.CARTO_FLAGS_PER_NETWORK_PER_HOUR = 2
    pins = [make_pin(text=f"besoin {i}") for i in range(3)]
    statuses = [
        flag(client, pin, REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i, pin in enumerate(pins)
    ]
    assert statuses == [201, 201, 429]  # rotating a forged header buys nothing


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(client, settings):
    settings.CARTO_TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.CARTO_FLAGS_PER_NETWORK_PER_HOUR = 2
    pins = [make_pin(text=f"besoin {i}") for i in range(3)]
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert [flag(client, p, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy).status_code for p in pins] == [
        201,
        201,
        429,
    ]
    # Another resident behind the same proxy is not refused for the first one's reports.
    assert flag(client, pins[2], HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy).status_code == 201


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("192.0.2.7", "198.51.100.1", "192.0.2.7"),  # not from the proxy: the header is the client's word
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own entry comes first
        ("127.0.0.1", "198.51.100.1, 10.0.0.2", "198.51.100.1"),  # two proxies, both trusted
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
    ],
)
def test_the_client_address_is_the_last_one_no_trusted_proxy_added(rf, settings, remote, forwarded, expected):
    settings.CARTO_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("", ""),
        ("garbage", "garbage"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(rf, address, network):
    assert client_network(rf.get("/", REMOTE_ADDR=address)) == network


def test_a_bad_trusted_proxy_setting_is_refused():
    with pytest.raises(ImproperlyConfigured):
        trusted_networks(["127.0.0.1", "not-a-network"])
