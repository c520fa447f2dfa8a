"""The map groups' in-memory index answers exactly as the SQL paths, and follows the map version."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from carto.models import Pin
from carto.pin_filter import PinFilter
from carto.services.moderation import pin_hide
from carto.stats.map_groups import BOX_COUNT_SQL, box_count_params, map_groups_in_box
from carto.stats.map_index_holder import map_index_drop, map_index_rebuild
from tests.factories import BELLEVILLE, BONDY, make_pin

pytestmark = pytest.mark.django_db

METROPOLE = (2.2, 48.75, 2.6, 49.0)
THEMES = ("mobilite", "logement", "acceder-droits")


def visible_in(bbox) -> int:
    with connection.cursor() as cursor:
        cursor.execute(BOX_COUNT_SQL, box_count_params(bbox))
        return cursor.fetchone()[0]


@pytest.fixture
def index_inline(settings):
    """Map groups from the index, rebuilt in the test's own transaction; no index left to the next test."""
    settings.CARTO_MAP_INDEX = "inline"
    map_index_drop()
    yield
    map_index_drop()


def test_memory_and_sql_give_the_same_groups_for_random_boxes_zooms_and_themes(moderator):
    rng = random.Random(2024)
    # Paris and its first ring (all in the Métropole); blurred themes and an unblurred one; a pile of pins
    # on one place (Belleville), as a popular spot has.
    pins = [
        make_pin(rng.uniform(2.25, 2.50), rng.uniform(48.80, 48.94), theme=rng.choice(THEMES))
        for _ in range(150)
    ]
    pins += [make_pin(*BELLEVILLE, theme="mobilite") for _ in range(6)]
    for pin in pins[:12]:
        pin_hide(pin_id=pin.id, actor=moderator, reason="Propos injurieux envers un voisin")
    Pin.objects.filter(id__in=[p.id for p in pins[12:18]]).update(status=Pin.Status.PENDING)
    index = map_index_rebuild()
    assert index.count == Pin.objects.visible().count() == 138
    theme_ids = sorted({p.theme_id for p in pins})
    boxes = [(METROPOLE, z) for z in (0, 4, 8, 12, 16)] + [((-180.0, -85.0, 180.0, 85.0), 2)]
    for _ in range(60):
        lon, lat = rng.uniform(2.26, 2.49), rng.uniform(48.81, 48.93)
        half_w, half_h = 10 ** rng.uniform(-3.5, -0.7), 10 ** rng.uniform(-3.5, -0.9)
        boxes.append(((lon - half_w, lat - half_h, lon + half_w, lat + half_h), rng.randint(6, 22)))
    for bbox, zoom in boxes:
        memory = map_groups_in_box(bbox=bbox, zoom=zoom, index=index)
        assert memory == map_groups_in_box(bbox=bbox, zoom=zoom)
        assert memory == map_groups_in_box(bbox=bbox, zoom=zoom, use_cells=False)
        if bbox[1] > 30:  # the bare count's Lambert-93 narrowing needs a box in Lambert-93's domain
            assert sum(g["count"] for g in memory) == visible_in(bbox)
        for themes in ((theme_ids[0],), tuple(theme_ids[1:]), ()):
            by_theme = PinFilter(theme_ids=themes)
            assert map_groups_in_box(bbox=bbox, zoom=zoom, pin_filter=by_theme, index=index) == (
                map_groups_in_box(bbox=bbox, zoom=zoom, pin_filter=by_theme)
            )


def test_the_endpoint_answers_from_memory_and_a_new_or_hidden_pin_counts_once_the_version_moves(
    client, index_inline, moderator, django_capture_on_commit_callbacks
):
    def clusters(**params) -> tuple[int, str]:
        response = client.get(
            "/api/pins/clusters/", {"bbox": ",".join(map(str, METROPOLE)), "zoom": 10, **params}
        )
        return response.json()["total"], response["X-Map-Groups"]

    with django_capture_on_commit_callbacks(execute=True):  # the version bump runs after the commit
        first = make_pin(*BELLEVILLE)
        make_pin(*BONDY, theme="logement")
    assert clusters() == (2, "memory")
    assert clusters(theme="logement") == (1, "memory")
    assert clusters(kind="need")[1] == "sql"  # a filter the index does not hold

    with django_capture_on_commit_callbacks(execute=True):
        make_pin(*BONDY)
    assert clusters() == (3, "memory")
    with django_capture_on_commit_callbacks(execute=True):
        pin_hide(pin_id=first.id, actor=moderator, reason="Propos injurieux envers un voisin")
    assert clusters() == (2, "memory")


def test_an_empty_map_is_answered_from_memory_too(client, index_inline):
    # A fresh install has no visible pin: the index is built empty (its build failed, every time the version
    # moved, and the SQL path answered meanwhile).
    response = client.get("/api/pins/clusters/", {"bbox": ",".join(map(str, METROPOLE)), "zoom": 10})
    assert (response.json(), response["X-Map-Groups"]) == ({"clusters": [], "total": 0}, "memory")
    assert map_index_rebuild().count == 0
