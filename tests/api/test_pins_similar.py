"""GET /api/pins/similar/: nearby visible pins that say the same thing, with rounded distances."""

from __future__ import annotations

import pytest

from carto.models import Pin
from carto.services.clustering import cluster_assign
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
def test_at_most_five_results(client):
    for i in range(7):
        make_pin(text=f"Imprimer des papiers CAF {i}")
    assert len(similar(client, text="imprimer papiers CAF").json()["results"]) == 5


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
def test_without_text_no_neighbour_is_offered_as_a_twin(client):
    make_pin(text="Il manque des bancs", theme="espaces-verts")
    make_pin(text="Trottoir trop étroit", theme="mobilite")
    assert similar(client, theme="mobilite").json() == {"results": [], "cluster": None}


# Residents' wordings of other needs, nearby: none may be offered as a twin of a wifi need.
NEIGHBOURS = [
    ("culture", "On voudrait une chorale pour les habitants, le mardi soir au centre social"),
    ("acceder-droits", "Pas d'endroit pour imprimer mes papiers CAF dans le quartier"),
    ("jeunesse", "Pas de salle pour les jeunes le soir, ils restent dans les halls"),
    ("mobilite", "Le bus 96 passe toutes les 20 minutes, c'est trop peu"),
    ("logement", "L'ascenseur est en panne depuis 3 semaines au bâtiment B"),
]


@pytest.mark.django_db
def test_similar_offers_twins_not_neighbours(client):
    others = [make_pin(theme=theme, text=text) for theme, text in NEIGHBOURS]
    twins = [
        make_pin(theme="equipement-connexion", text="Pas de wifi gratuit à la médiathèque ni au square"),
        make_pin(theme="equipement-connexion", text="no free wifi anywhere in the neighbourhood"),
    ]
    ids = [
        r["id"]
        for r in similar(
            client, theme="equipement-connexion", text="Pas de wifi gratuit dans le quartier"
        ).json()["results"]
    ]
    assert set(ids) == {p.pk for p in twins}
    assert not {p.pk for p in others} & set(ids)
    # A need nobody nearby shares: nothing rather than something else.
    assert similar(client, text="Il faudrait un cours de natation pour les femmes").json()["results"] == []


@pytest.mark.django_db
def test_similar_names_the_cluster_of_the_same_need_elsewhere_in_the_metropole(client):
    from tests.factories import VILLENEUVE_LA_GARENNE

    far = [
        make_pin(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF"),
        make_pin(*VILLENEUVE_LA_GARENNE, text="Pas d'imprimante pour mes papiers CAF, la médiathèque refuse"),
    ]
    for pin in far:  # what on_commit does after each pin_create outside a test transaction
        cluster_assign(pin)
    body = similar(client, text="où imprimer mes documents caf ?").json()
    assert body["results"] == []  # nothing within 1.5 km of Belleville
    cluster = body["cluster"]
    assert cluster["pin_count"] == 2 and cluster["territory_count"] == 2
    assert cluster["label"] in {p.text for p in far}
    assert set(cluster) == {"id", "label", "pin_count", "support_count", "territory_count"}
