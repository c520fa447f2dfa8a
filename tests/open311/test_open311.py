"""Open311 GeoReport v2: services, requests (GET/POST), tokens, errors, XML, and a client written from the spec."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET

import pytest
from django.utils import timezone

from carto.models import ApiKey, Pin
from tests.factories import BELLEVILLE, BONDY, VERSAILLES, make_pin

BASE = "/open311/v2"


@pytest.fixture
def api_key(db) -> str:
    return ApiKey.issue(name="Ville de Bondy back-office")[1]


def post_request(client, **fields):
    return client.post(f"{BASE}/requests.json", fields)


def parse_xml(response) -> ET.Element:
    """Our own server's XML answer, in a test (the server itself never parses XML)."""
    return ET.fromstring(response.content)  # noqa: S314


def spec_error(response, status: int) -> str:
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status
    return body[0]["description"]


# Services


def test_services_are_the_themes_with_their_group_and_no_metadata(client, db):
    services = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in services}
    assert "acceder-droits" in codes
    assert "numerique" not in codes  # a group of themes is the `group`, not a service
    droits = next(s for s in services if s["service_code"] == "acceder-droits")
    assert droits["group"] == "Numérique"
    assert droits["metadata"] is False
    assert droits["type"] == "realtime"
    assert "caf" in droits["keywords"].split(",")


def test_service_definition_has_no_attributes_and_unknown_code_is_404(client, db):
    assert client.get(f"{BASE}/services/acceder-droits.json").json() == {
        "service_code": "acceder-droits",
        "attributes": [],
    }
    spec_error(client.get(f"{BASE}/services/nope.json"), 404)


def test_discovery_lists_the_endpoint_and_formats(client, db):
    body = client.get(f"{BASE}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]


# POST


def test_post_creates_a_pin_through_the_pins_service(client, api_key):
    response = post_request(
        client,
        api_key=api_key,
        service_code="acceder-droits",
        lat=BONDY[1],
        long=BONDY[0],
        description="Pas d'imprimante pour les dossiers CAF",
        email="someone@example.org",
    )
    assert response.status_code == 201
    [answer] = response.json()
    assert isinstance(answer["service_request_id"], str)
    pin = Pin.objects.get(pk=int(answer["service_request_id"]))
    assert pin.commune.name == "Bondy"
    assert pin.kind == "need" and pin.theme.slug == "acceder-droits"
    assert pin.ip_hash  # screened like the JSON API (throttles by IP hash)
    assert pin.author is None
    token = client.get(f"{BASE}/tokens/{answer['token']}.json").json()
    assert token == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]


def test_post_without_api_key_is_refused_with_403(client, db):
    response = post_request(
        client, service_code="acceder-droits", lat=BONDY[1], long=BONDY[0], description="x"
    )
    assert "api_key" in spec_error(response, 403)
    assert not Pin.objects.exists()


def test_post_with_an_inactive_or_wrong_api_key_is_refused_with_403(client, api_key):
    ApiKey.objects.update(active=False)
    fields = {"service_code": "acceder-droits", "lat": BONDY[1], "long": BONDY[0], "description": "x"}
    spec_error(post_request(client, api_key=api_key, **fields), 403)
    spec_error(post_request(client, api_key="not-a-key", **fields), 403)


def test_post_with_an_unknown_service_code_is_a_400(client, api_key):
    response = post_request(
        client, api_key=api_key, service_code="licornes", lat=BONDY[1], long=BONDY[0], description="x"
    )
    assert "service_code" in spec_error(response, 400)


def test_post_with_a_group_of_themes_as_service_code_is_a_400(client, api_key):
    response = post_request(
        client, api_key=api_key, service_code="numerique", lat=BONDY[1], long=BONDY[0], description="x"
    )
    spec_error(response, 400)


def test_post_without_any_location_is_a_400(client, api_key):
    response = post_request(client, api_key=api_key, service_code="acceder-droits", description="x")
    assert "location" in spec_error(response, 400)


def test_post_with_only_an_address_string_is_a_400_that_says_to_send_coordinates(client, api_key):
    response = post_request(
        client,
        api_key=api_key,
        service_code="acceder-droits",
        address_string="1 place de la République, Bondy",
        description="x",
    )
    assert "lat and long" in spec_error(response, 400)


def test_post_outside_the_metropole_is_a_400(client, api_key):
    response = post_request(
        client,
        api_key=api_key,
        service_code="acceder-droits",
        lat=VERSAILLES[1],
        long=VERSAILLES[0],
        description="Besoin d'aide pour les papiers",
    )
    assert "Métropole" in spec_error(response, 400)
    assert not Pin.objects.exists()


@pytest.mark.parametrize(
    "lat,long", [("abc", "2.4"), ("nan", "2.4"), ("48.9", "inf"), ("91", "2.4"), ("48.9", "")]
)
def test_post_with_bad_coordinates_is_a_400(client, api_key, lat, long):
    response = post_request(
        client, api_key=api_key, service_code="acceder-droits", lat=lat, long=long, description="x"
    )
    spec_error(response, 400)


def test_post_with_an_empty_or_nul_description_is_a_400(client, api_key):
    fields = {"api_key": api_key, "service_code": "acceder-droits", "lat": BONDY[1], "long": BONDY[0]}
    spec_error(post_request(client, description="   ", **fields), 400)
    spec_error(post_request(client, description="a\x00b", **fields), 400)


def test_post_as_xml_answers_xml(client, api_key):
    response = client.post(
        f"{BASE}/requests.xml",
        {
            "api_key": api_key,
            "service_code": "acceder-droits",
            "lat": BONDY[1],
            "long": BONDY[0],
            "description": "Besoin d'un ordinateur",
        },
    )
    assert response.status_code == 201
    root = parse_xml(response)
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text.isdigit()


def test_put_is_refused_with_the_spec_error_shape(client, db):
    spec_error(client.put(f"{BASE}/requests.json"), 405)


# GET requests


def test_requests_show_visible_pins_with_public_location_only(client, db):
    pin = make_pin(*BELLEVILLE)
    [request] = client.get(f"{BASE}/requests.json").json()
    assert request["service_request_id"] == str(pin.pk)
    assert request["status"] == "open"
    assert request["service_code"] == "acceder-droits"
    public = pin.public_location.transform(4326, clone=True)
    assert (request["long"], request["lat"]) == (round(public.x, 5), round(public.y, 5))
    exact = pin.location.transform(4326, clone=True)
    assert (request["long"], request["lat"]) != (round(exact.x, 5), round(exact.y, 5))
    assert "+01:00" in request["requested_datetime"] or "+02:00" in request["requested_datetime"]
    assert request["address"]  # the commune name, never a street address


def test_hidden_and_pending_pins_are_not_open311_requests(client, db):
    hidden = make_pin(status=Pin.Status.HIDDEN)
    pending = make_pin(status=Pin.Status.PENDING)
    assert client.get(f"{BASE}/requests.json").json() == []
    spec_error(client.get(f"{BASE}/requests/{hidden.pk}.json"), 404)
    spec_error(client.get(f"{BASE}/requests/{pending.pk}.json"), 404)


def test_status_filter_maps_the_workflow_to_open_and_closed(client, db):
    opened = make_pin(status=Pin.Status.ACKNOWLEDGED)
    closed = make_pin(status=Pin.Status.RESOLVED)

    def ids(status: str) -> list[str]:
        return [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status={status}").json()]

    assert ids("open") == [str(opened.pk)]
    assert ids("closed") == [str(closed.pk)]
    assert sorted(ids("open,closed")) == sorted([str(opened.pk), str(closed.pk)])


def test_requests_default_to_the_last_90_days_and_take_a_date_range(client, db):
    old = make_pin()
    recent = make_pin()
    Pin.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()] == [str(recent.pk)]
    start = (timezone.now() - dt.timedelta(days=130)).isoformat()
    end = (timezone.now() - dt.timedelta(days=100)).isoformat()
    query = urllib.parse.urlencode({"start_date": start, "end_date": end})
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{query}").json()] == [
        str(old.pk)
    ]


def test_service_request_id_filter_overrides_the_others_and_pages_are_bounded(client, db):
    pins = [make_pin() for _ in range(3)]
    ids = ",".join(str(p.pk) for p in pins[:2])
    got = client.get(f"{BASE}/requests.json?service_request_id={ids}&status=closed").json()
    assert sorted(r["service_request_id"] for r in got) == sorted(str(p.pk) for p in pins[:2])
    first = client.get(f"{BASE}/requests.json?page_size=2").json()
    second = client.get(f"{BASE}/requests.json?page_size=2&page=2").json()
    assert len(first) == 2 and len(second) == 1
    spec_error(client.get(f"{BASE}/requests.json?page_size=1001"), 400)


@pytest.mark.parametrize(
    "query",
    ["status=maybe", "start_date=yesterday", "page=0", "page=-1", "service_request_id=1;DROP", "page_size=x",
     "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z"],
)  # fmt: skip
def test_bad_filters_are_400_in_the_spec_shape(client, db, query):
    spec_error(client.get(f"{BASE}/requests.json?{query}"), 400)


def test_unknown_request_token_and_endpoint_are_404_in_the_spec_shape(client, db):
    spec_error(client.get(f"{BASE}/requests/999999.json"), 404)
    spec_error(client.get(f"{BASE}/requests/abc.json"), 404)
    spec_error(client.get(f"{BASE}/tokens/not-a-token.json"), 404)
    spec_error(client.get(f"{BASE}/nothing-here"), 404)
    # Found by schemathesis: a newline in the address fell through to Django's HTML 404.
    spec_error(client.get(f"{BASE}/services/a%0Ab.%F3%AB%93%97"), 404)


# XML


def test_xml_variants_parse_with_elementtree(client, db):
    pin = make_pin(text="Texte <b>avec</b> & des caractères \x01 de contrôle")
    services = parse_xml(client.get(f"{BASE}/services.xml"))
    assert services.tag == "services"
    assert services.find("service/metadata").text == "false"
    requests = parse_xml(client.get(f"{BASE}/requests.xml"))
    assert requests.find("request/service_request_id").text == str(pin.pk)
    assert requests.find("request/description").text == "Texte <b>avec</b> & des caractères  de contrôle"
    one = parse_xml(client.get(f"{BASE}/requests/{pin.pk}.xml"))
    assert one.find("request/status").text == "open"
    definition = parse_xml(client.get(f"{BASE}/services/acceder-droits.xml"))
    assert definition.find("service_code").text == "acceder-droits"
    discovery = parse_xml(client.get(f"{BASE}/discovery.xml"))
    assert [f.text for f in discovery.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]
    response = client.get(f"{BASE}/services/nope.xml")
    errors = parse_xml(response)
    assert response.status_code == 404 and errors.find("error/code").text == "404"


def test_json_answers_never_carry_raw_markup(client, db):
    make_pin(text="<script>alert(1)</script>")
    body = client.get(f"{BASE}/requests.json").content
    assert b"<script>" not in body
    assert json.loads(body)[0]["description"] == "<script>alert(1)</script>"


# A client written from the GeoReport v2 spec, against a live server


class GeoReportClient:
    """The calls of http://wiki.open311.org/GeoReport_v2, over plain HTTP with form-encoded POSTs."""

    def __init__(self, endpoint: str, api_key: str):
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key

    def _call(self, method: str, path: str, params: dict | None = None):
        data = None
        url = f"{self.endpoint}/{path}"
        if method == "GET" and params:
            url += "?" + urllib.parse.urlencode(params)
        elif params is not None:
            data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (test server URL)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def get_service_list(self) -> list[dict]:
        return self._call("GET", "services.json")

    def post_service_request(self, *, service_code: str, lat: float, long: float, description: str) -> str:
        fields = {"api_key": self.api_key, "service_code": service_code, "lat": lat, "long": long,
                  "description": description}  # fmt: skip
        return self._call("POST", "requests.json", fields)[0]["service_request_id"]

    def get_service_request(self, service_request_id: str) -> dict:
        return self._call("GET", f"requests/{service_request_id}.json")[0]

    def get_service_requests(self, **filters) -> list[dict]:
        return self._call("GET", "requests.json", filters)


def test_an_open311_client_written_from_the_spec_works_against_the_server(committed_db, server):
    _, key = ApiKey.issue(name="spec client")
    client = GeoReportClient(f"{server.url}{BASE}", key)
    services = client.get_service_list()
    code = next(s["service_code"] for s in services if s["group"])
    request_id = client.post_service_request(
        service_code=code, lat=BELLEVILLE[1], long=BELLEVILLE[0], description="Un point wifi gratuit ?"
    )
    fetched = client.get_service_request(request_id)
    assert fetched["service_request_id"] == request_id
    assert fetched["description"] == "Un point wifi gratuit ?"
    assert fetched["status"] == "open"
    now = timezone.now()
    listed = client.get_service_requests(
        start_date=(now - dt.timedelta(hours=1)).isoformat(),
        end_date=(now + dt.timedelta(hours=1)).isoformat(),
    )
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get_service_requests(end_date=(now - dt.timedelta(days=1)).isoformat()) == []
    with pytest.raises(urllib.error.HTTPError) as refused:
        GeoReportClient(client.endpoint, "wrong").post_service_request(
            service_code=code, lat=BELLEVILLE[1], long=BELLEVILLE[0], description="x"
        )
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == [
        {"code": 403, "description": "A valid api_key is required to POST a service request."}
    ]


# The spec's error list for what DRF refuses before a view runs


def test_a_json_body_is_refused_with_415_in_the_spec_shape_and_writes_nothing(client, api_key):
    body = {"api_key": api_key, "service_code": "acceder-droits", "lat": BELLEVILLE[1], "long": BELLEVILLE[0],
            "description": "Un besoin"}  # fmt: skip
    response = client.post(f"{BASE}/requests.json", json.dumps(body), content_type="application/json")
    spec_error(response, 415)
    assert Pin.objects.count() == 0


def test_options_is_refused_with_405_and_the_allowed_methods(client, db):
    response = client.options(f"{BASE}/requests.xml")
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    assert parse_xml(response).find("error/code").text == "405"


def test_an_xml_client_asking_for_xml_gets_xml_not_a_406(client, db):
    response = client.get(f"{BASE}/services.xml", HTTP_ACCEPT="text/xml")
    assert response.status_code == 200 and parse_xml(response).tag == "services"


def test_a_nul_in_the_address_is_a_400_in_the_spec_shape_and_format(client, db):
    response = client.get(f"{BASE}/requests.xml", {"service_code": "\x00"})
    assert response.status_code == 400 and parse_xml(response).find("error/code").text == "400"
    spec_error(client.get(f"{BASE}/requests.json", {"status": "\x00"}), 400)
