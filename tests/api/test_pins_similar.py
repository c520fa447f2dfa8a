"""GET /api/pins/similar/: nearby visible pins that say the same thing, with rounded distances."""

from __future__ import annotations

import importlib

import pytest

from carto.models import Pin
from carto.models.clusters import PinEmbedding
from carto.services import similar as similar_service
from carto.services.clustering import cluster_assign
from tests.factories import BELLEVILLE, BONDY, make_pin


def posted(*args, **kwargs) -> Pin:
    """A pin as the write path leaves it once its after-commit clustering ran (embedding stored)."""
    pin = make_pin(*args, **kwargs)
    cluster_assign(pin)
    return pin


def similar(client, **params):
    params.setdefault("lat", BELLEVILLE[1])
    params.setdefault("lon", BELLEVILLE[0])
    return client.get("/api/pins/similar/", params)


@pytest.mark.django_db
def test_a_reworded_pin_nearby_ranks_first_despite_missing_accents(client):
    same = posted(text="L'ascenseur de la résidence est en panne depuis deux semaines", theme="logement")
    posted(text="Pas d'endroit pour imprimer mes papiers CAF", theme="acceder-droits")
    posted(BELLEVILLE[0] + 0.002, BELLEVILLE[1], text="Il manque des bancs au square", theme="espaces-verts")
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
    near = posted(BELLEVILLE[0] + 0.003, BELLEVILLE[1], text="Besoin d'aide pour la CAF")
    posted(*BONDY, text="Besoin d'aide pour la CAF")  # about 8 km away
    posted(text="Besoin d'aide pour la CAF", status=Pin.Status.PENDING)
    results = similar(client, text="aide CAF").json()["results"]
    assert [r["id"] for r in results] == [near.pk]
    assert results[0]["distance_m"] % 100 == 0


@pytest.mark.django_db
def test_at_most_five_results(client):
    for i in range(7):
        posted(text=f"Imprimer des papiers CAF {i}")
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
    posted(text="Il manque des bancs", theme="espaces-verts")
    posted(text="Trottoir trop étroit", theme="mobilite")
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
    others = [posted(theme=theme, text=text) for theme, text in NEIGHBOURS]
    twins = [
        posted(theme="equipement-connexion", text="Pas de wifi gratuit à la médiathèque ni au square"),
        posted(theme="equipement-connexion", text="no free wifi anywhere in the neighbourhood"),
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
        posted(*BONDY, text="Nulle part pour imprimer mes papiers de la CAF"),
        posted(*VILLENEUVE_LA_GARENNE, text="Pas d'imprimante pour mes papiers CAF, la médiathèque refuse"),
    ]
    for pin in far:  # what on_commit does after each pin_create outside a test transaction
        cluster_assign(pin)
    body = similar(client, text="où imprimer mes documents caf ?").json()
    assert body["results"] == []  # nothing within 1.5 km of Belleville
    cluster = body["cluster"]
    assert cluster["pin_count"] == 2 and cluster["territory_count"] == 2
    assert cluster["label"] in {p.text for p in far}
    assert set(cluster) == {"id", "label", "pin_count", "support_count", "territory_count"}


@pytest.mark.django_db
def test_a_pin_not_embedded_yet_is_left_out_and_not_encoded_by_the_request(client):
    embedded = posted(text="Pas d'endroit pour imprimer mes papiers CAF")
    waiting = make_pin(text="Nulle part pour imprimer mes papiers de la CAF")  # its clustering has not run
    response = similar(client, text="où imprimer mes papiers caf ?")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [embedded.pk]
    assert not PinEmbedding.objects.filter(pin_id=waiting.pk).exists()  # encoding is the write path's job


@pytest.mark.django_db
def test_a_twin_of_the_picked_theme_is_found_beyond_the_nearest_pins(client, monkeypatch):
    # Two reaches of CANDIDATES pins each: the nearest of any theme, the nearest of the picked theme.
    monkeypatch.setattr(similar_service, "CANDIDATES", 2)
    for text in ("Il manque des bancs au square", "Le bus 96 passe trop rarement"):
        posted(text=text, theme="espaces-verts")
    twin = posted(BELLEVILLE[0] + 0.008, BELLEVILLE[1], text="Pas de wifi gratuit dans le quartier",
                  theme="equipement-connexion")  # fmt: skip  # about 600 m east
    asked = {"text": "pas de wifi gratuit ici"}
    assert [r["id"] for r in similar(client, theme="equipement-connexion", **asked).json()["results"]] == [
        twin.pk
    ]
    assert similar(client, theme="espaces-verts", **asked).json()["results"] == []  # the theme widens only


@pytest.mark.django_db
def test_the_same_text_twice_shows_the_nearer_pin_first_even_if_older(client):
    text = "Pas de wifi gratuit à la médiathèque"
    near = posted(BELLEVILLE[0] + 0.002, BELLEVILLE[1], text=text, theme="equipement-connexion")
    far = posted(BELLEVILLE[0] + 0.01, BELLEVILLE[1], text=text, theme="equipement-connexion")  # newer
    ids = [r["id"] for r in similar(client, text=text).json()["results"]]
    assert ids[:2] == [near.pk, far.pk]


def test_the_theme_reach_index_covers_exactly_the_visible_statuses():
    migration = importlib.import_module("carto.migrations.0016_similar_candidates")
    written_out = "(" + ", ".join(f"'{s}'" for s in Pin.VISIBLE_STATUSES) + ")"
    assert written_out == migration.VISIBLE
