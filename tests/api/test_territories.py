from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

from carto.models import Territory, Theme

pytestmark = pytest.mark.django_db


def test_communes_are_served_as_a_geojson_feature_collection_in_wgs84(client):
    response = client.get("/api/territories/", {"kind": "commune"})
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 130
    bondy = next(f for f in body["features"] if f["id"] == "93010")
    assert bondy["properties"]["name"] == "Bondy"
    assert bondy["properties"]["parent"] == "T8"
    lon, lat = bondy["geometry"]["coordinates"][0][0][0]
    assert 2.4 < lon < 2.6 and 48.8 < lat < 49.0


def test_the_175_qpv_are_listed_with_their_contour_population_and_communes(client):
    body = client.get("/api/territories/", {"kind": "qpv"}).json()
    assert len(body["features"]) == 175
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in body["features"])
    amandiers = next(f for f in body["features"] if f["id"] == "QN07520M")
    assert amandiers["properties"]["communes"] == ["75056"]
    assert amandiers["properties"]["population"] > 0


def test_an_unknown_qpv_code_is_a_404_in_the_one_error_shape(client):
    response = client.get("/api/territories/QN99999Z/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_one_territory_by_code_lists_its_children(client):
    body = client.get("/api/territories/T8/").json()
    assert body["properties"]["name"] == "Est Ensemble"
    assert "93010" in body["properties"]["children"]


@pytest.mark.parametrize("kind", ["", "region", "COMMUNE"])
def test_an_unknown_kind_is_a_400_in_the_one_error_shape(client, kind):
    response = client.get("/api/territories/", {"kind": kind})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_kind"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_an_unknown_code_is_a_404_in_the_one_error_shape(client):
    response = client.get("/api/territories/99999/")
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("not_found", {})
    assert error["message"]


def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_actors_in_a_bbox_around_belleville_are_located_ones_only(client):
    body = client.get("/api/actors/", {"bbox": "2.37,48.86,2.40,48.88"}).json()
    names = {f["properties"]["name"] for f in body["features"]}
    assert "Belleville Citoyenne Maison du Numérique" in names
    assert "Amandiers Connexion" not in names  # not located
    assert all(f["geometry"]["type"] == "Point" for f in body["features"])


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "2.4,48.9,2.3,48.8", "200,0,201,1", "nan,1,2,3"])
def test_a_bad_bbox_is_a_400(client, bbox):
    response = client.get("/api/actors/", {"bbox": bbox})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_bbox"


def test_themes_come_with_pictograms_and_four_languages(client):
    themes = client.get("/api/themes/").json()
    assert len(themes) == 18
    printing = next(t for t in themes if t["slug"] == "acceder-droits")
    assert printing["parent"] == "numerique"
    assert printing["pictogram_url"].endswith("pictograms/acceder-droits.svg")
    assert set(printing["labels"]) == {"fr", "en", "ar", "zh"}


def test_themes_are_cacheable_and_an_edited_label_is_new_bytes(client):
    first = client.get("/api/themes/")
    assert first["Cache-Control"] == "public, max-age=300"
    again = client.get("/api/themes/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    theme = Theme.objects.get(slug="logement")
    theme.labels = {**theme.labels, "fr": "Logement et habitat"}
    theme.save()
    edited = client.get("/api/themes/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert edited.status_code == 200 and edited["ETag"] != first["ETag"]
    assert next(t for t in edited.json() if t["slug"] == "logement")["labels"]["fr"] == "Logement et habitat"


def test_the_openapi_schema_is_served_and_valid(client, tmp_path):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/territories/" in schema["paths"]
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yml"))  # raises on errors


def test_the_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn" not in response.content.lower()


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert (ready["status"], ready["database"], ready["queue"]["state"]) == ("ok", True, "ok")


def test_territory_outlines_are_cacheable_and_revalidate_with_a_304(client):
    first = client.get("/api/territories/", {"kind": "ept"})
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=3600"
    etag = first["ETag"]
    again = client.get("/api/territories/", {"kind": "ept"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == "public, max-age=3600"
    assert client.get("/api/territories/", {"kind": "commune"})["ETag"] != etag
    # Reloaded data (load_all) is new bytes: the old ETag no longer matches.
    Territory.objects.filter(code="T1").update(name="Paris (test)")
    changed = client.get("/api/territories/", {"kind": "ept"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # An error is never cached.
    bad = client.get("/api/territories/", {"kind": "planet"})
    assert bad.status_code == 400 and "ETag" not in bad and "public" not in bad.get("Cache-Control", "")
