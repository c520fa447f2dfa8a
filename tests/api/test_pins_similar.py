"""GET /api/pins/similar/: nearby visible pins that say the same thing, with rounded distances."""

from __future__ import annotations

import pytest

from carto.models import Pin
from tests.factories import BELLEVILLE, BONDY, make_pin


def similar(client, **params):
    params.setdefault("lat", BELLEVILLE[1])
    params.setdefault("lon", BELLEVILLE[0])
    return client.get("/api/pins/similar/", params)


@pytest.mark.django_db
def test_a_reworded_pin_nearby_ranks_first_despite_missing_accents(client):
    same = make_pin(text="L'ascenseur de la résidence est en panne depuis deux semaines", theme="logement")
    make_pin(text="Pas d'endroit pour imprimer mes papiers CAF", theme="acceder-droits")
    make_pin(
        BELLEVILLE[0] + 0.002, BELLEVILLE[1], text="Il manque des bancs au square", theme="espaces-verts"
    )
    response = similar(client, theme="logement", text="ascenseur en panne residence")
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["id"] == same.pk
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert "imprimer" not in " ".join(r["text"] for r in results)  # unrelated text is filtered out
    assert set(results[0]) == {
        "id",
        "kind",
        "theme",
        "text",
        "status",
        "support_count",
        "score",
        "distance_m",
    }


@pytest.mark.django_db
def test_distances_are_rounded_to_100_m_and_far_or_hidden_pins_are_left_out(client):
    near = make_pin(BELLEVILLE[0] + 0.003, BELLEVILLE[1], text="Besoin d'aide pour la CAF")
    make_pin(*BONDY, text="Besoin d'aide pour la CAF")  # about 8 km away
    make_pin(text="Besoin d'aide pour la CAF", status=Pin.Status.PENDING)
    results = similar(client, text="aide CAF").json()["results"]
    assert [r["id"] for r in results] == [near.pk]
    assert results[0]["distance_m"] % 100 == 0


@pytest.mark.django_db
def test_at_most_ten_results(client):
    for i in range(12):
        make_pin(text=f"Imprimer des papiers CAF {i}")
    assert len(similar(client, text="imprimer papiers").json()["results"]) == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lat": None}, "missing_field"),
        ({"lat": "abc"}, "invalid_coordinates"),
        ({"lat": "95"}, "invalid_coordinates"),
    ],
)
def test_bad_similar_parameters_are_400(client, params, code):
    params = {
        k: v for k, v in {"lat": BELLEVILLE[1], "lon": BELLEVILLE[0], **params}.items() if v is not None
    }
    response = client.get("/api/pins/similar/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.django_db
def test_without_text_nearby_pins_of_the_same_theme_come_first(client):
    other = make_pin(text="Il manque des bancs", theme="espaces-verts")
    same_theme = make_pin(text="Trottoir trop étroit", theme="mobilite")
    results = similar(client, theme="mobilite").json()["results"]
    assert [r["id"] for r in results] == [same_theme.pk, other.pk]
