"""GET /api/basemap.pmtiles: the operator's PMTiles file in byte ranges (RFC 9110), hostile Range headers included."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import pytest
from pmtiles.reader import Reader, all_tiles

from tests.basemaps import write_street_basemap

URL = "/api/basemap.pmtiles"
SIZE = 10_000
CONTENT = bytes(i % 251 for i in range(SIZE))  # no two neighbouring windows alike: a wrong offset shows


@pytest.fixture
def basemap(tmp_path, settings) -> Path:
    path = tmp_path / "streets.pmtiles"
    path.write_bytes(CONTENT)
    settings.CARTO_BASEMAP_PMTILES = str(path)
    return path


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get(client, range_header: str | None = None, **headers):
    if range_header is not None:
        headers["HTTP_RANGE"] = range_header
    # The browser asks for gzip with its ranges too: a 206 must still be the stored bytes.
    return client.get(URL, HTTP_ACCEPT_ENCODING="gzip, deflate, br", **headers)


def test_without_a_configured_file_the_answer_is_404_in_the_error_shape(client, settings):
    settings.CARTO_BASEMAP_PMTILES = ""
    response = client.get(URL)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_basemap"


def test_a_file_gone_since_start_up_is_a_404_not_a_500(client, basemap):
    basemap.unlink()
    response = client.get(URL, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_basemap"


def test_without_range_the_whole_file_is_streamed_with_its_validators_and_cacheable(client, basemap):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.streaming  # read a chunk at a time, never whole in memory
    assert body(response) == CONTENT
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/vnd.pmtiles"
    assert response["Content-Length"] == str(SIZE)
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")
    assert "public" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),  # one byte (whitenoise would answer 416)
        ("bytes=0-16383", 0, SIZE - 1),  # the PMTiles client's first read, longer than the file: clamped
        ("bytes=127-1126", 127, 1126),
        ("bytes=9000-", 9000, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=-99999", 0, SIZE - 1),  # a suffix longer than the file: the whole file, in a 206
        ("bytes=5-" + "9" * 5000, 5, SIZE - 1),  # past int()'s 4,300-digit limit: clamped, no 500
        ("bytes=00000000000000000000000000042-43", 42, 43),  # leading zeros are still small numbers
        ("Bytes=10-19", 10, 19),  # the unit is case-insensitive
        (" bytes=10-19 ", 10, 19),
    ],
)
def test_a_single_range_is_answered_206_with_exactly_those_bytes(client, basemap, header, first, last):
    response = get(client, header)
    assert response.status_code == 206
    assert body(response) == CONTENT[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert not response.has_header("Content-Encoding")  # never gzipped: the range counts stored bytes
    assert response["ETag"] and response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    "header", [f"bytes={SIZE}-", "bytes=20000-20010", "bytes=-0", "bytes=" + "9" * 5000 + "-"]
)
def test_a_range_past_the_end_is_416_with_the_size(client, basemap, header):
    response = get(client, header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    # Every refusal in the one error shape (it had an empty body).
    assert response["Content-Type"] == "application/json"
    assert json.loads(body(response))["error"]["code"] == "range_not_satisfiable"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # several ranges: ignored (RFC 9110 §14.2 lets a server send the whole file)
        "bytes=5-2",  # last before first: an invalid range, ignored
        "bytes=--5",
        "bytes=+5-",
        "bytes=1_0-",
        "bytes=٣-5",  # a non-ASCII digit
        "bytes=-",
        "bytes=",
        "bytes 0-5",
        "items=0-5",  # another unit
        "garbage",
        "x" * 5000,
    ],
)
def test_a_range_that_cannot_be_read_is_ignored_and_the_whole_file_sent(client, basemap, header):
    response = get(client, header)
    assert response.status_code == 200
    content = body(response)
    assert (gzip.decompress(content) if response.get("Content-Encoding") == "gzip" else content) == CONTENT


def test_a_client_holding_the_same_file_gets_304_and_a_changed_file_a_new_etag(client, basemap):
    etag = client.get(URL, HTTP_RANGE="bytes=0-9")["ETag"]
    again = client.get(URL, HTTP_RANGE="bytes=0-9", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    basemap.write_bytes(CONTENT[::-1])  # `make basemap` ran again
    os.utime(basemap, ns=(1, 1))
    changed = client.get(URL, HTTP_RANGE="bytes=0-9", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 206
    assert changed["ETag"] != etag
    assert body(changed) == CONTENT[::-1][:10]


def test_if_range_sends_ranges_of_the_same_file_only(client, basemap):
    etag = client.head(URL)["ETag"]
    same = client.get(URL, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert same.status_code == 206
    other = client.get(URL, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"an-older-file"')
    assert other.status_code == 200
    assert body(other) == CONTENT


def test_if_match_on_another_file_is_412_in_the_error_shape(client, basemap):
    response = client.get(URL, HTTP_RANGE="bytes=0-9", HTTP_IF_MATCH='"an-older-file"')
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"


def test_head_tells_the_size_without_a_body(client, basemap):
    response = client.head(URL, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert body(response) == b""


def test_writes_are_refused_405_in_the_error_shape(client, basemap):
    response = client.post(URL, data=b"x", content_type="application/octet-stream")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_the_pmtiles_reader_finds_every_street_tile_through_ranges(client, tmp_path, settings):
    """The reader the browser's library mirrors: header, directories and tiles, each a Range request."""
    settings.CARTO_BASEMAP_PMTILES = str(write_street_basemap(tmp_path / "streets.pmtiles"))

    def get_bytes(offset: int, length: int) -> bytes:
        response = client.get(URL, HTTP_RANGE=f"bytes={offset}-{offset + length - 1}")
        assert response.status_code == 206
        return body(response)

    tiles = dict(all_tiles(get_bytes))
    assert {z for z, _, _ in tiles} == {12, 13, 14}
    names = set()
    for data in tiles.values():
        layers = mapbox_vector_tile.decode(gzip.decompress(data))
        assert set(layers) == {"transportation", "transportation_name"}
        for feature in layers["transportation_name"]["features"]:
            names.add(feature["properties"].get("name") or feature["properties"]["name:latin"])
    assert names == {"Allée des Essais", "Route des Tests"}
    assert Reader(get_bytes).header()["max_zoom"] == 14


def test_a_configured_path_that_is_no_file_stops_the_start_up(tmp_path):
    env = {**os.environ, "CARTO_BASEMAP_PMTILES": str(tmp_path / "missing.pmtiles")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CARTO_BASEMAP_PMTILES" in result.stderr
