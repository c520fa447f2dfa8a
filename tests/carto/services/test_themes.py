"""Themes kept in each process's memory for the write path, and checked by the write itself."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carto.errors import InvalidInput
from carto.models import Pin, Theme, WriteCounter
from carto.services import themes
from carto.services.pins import pin_submit
from tests.factories import BELLEVILLE

pytestmark = pytest.mark.django_db


def submit(theme_slug="acceder-droits", text="Pas d'endroit pour imprimer mes papiers CAF"):
    return pin_submit(
        client_uuid=uuid.uuid4(), kind="need", theme_slug=theme_slug, text=text,
        location=Point(*BELLEVILLE, srid=4326), device_hash="d" * 64, ip_hash="i" * 64,
    )  # fmt: skip


def _change_elsewhere(slug: str, **values) -> None:
    """What another process's edit looks like from here: the row changes, this process hears nothing."""
    columns = ", ".join(f"{name} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE carto_theme SET {columns} WHERE slug = %s", [*values.values(), slug])  # noqa: S608


def test_a_pin_reads_its_theme_from_memory_once_the_process_knows_it():
    themes.themes_forget()
    submit()
    with CaptureQueriesContext(connection) as queries:
        submit(text="Besoin d'une imprimante pour mon dossier CAF")
    assert not [q for q in queries if "carto_theme" in q["sql"] and "carto_pin_preflight" not in q["sql"]]


def test_a_blur_radius_changed_by_another_process_applies_to_the_next_pin_counted_once():
    submit()  # the process now keeps the theme with its old radius
    _change_elsewhere("acceder-droits", blur_meters=0)
    pin = submit(text="Besoin d'une imprimante pour mon dossier CAF").pin
    # The stale copy was refused by the preflight, read again, and the pin written once with radius 0.
    pin.refresh_from_db()
    assert pin.public_location.equals_exact(pin.location, 0.001)
    assert themes.theme_by_slug("acceder-droits").blur_meters == 0
    assert Pin.objects.count() == 2
    assert (
        WriteCounter.objects.get(key=f"pin:device:{'d' * 64}").count == 2
    )  # not 3: the refused try counted nothing


def test_a_theme_turned_into_a_group_elsewhere_is_refused_as_a_group():
    submit()
    child = Theme.objects.get(slug="acceder-droits")
    _change_elsewhere("acceder-droits", parent_id=None)
    with pytest.raises(InvalidInput) as refused:
        submit(text="Besoin d'une imprimante pour mon dossier CAF")
    assert refused.value.code == "invalid_theme"
    assert Pin.objects.count() == 1
    _change_elsewhere("acceder-droits", parent_id=child.parent_id)


def test_a_theme_deleted_elsewhere_is_an_unknown_theme():
    parent = Theme.objects.get(slug="acceder-droits").parent
    Theme.objects.create(slug="ephemere", parent=parent, color="#123456", pictogram="x", blur_meters=50)
    assert themes.theme_by_slug("ephemere") is not None
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM carto_theme WHERE slug = 'ephemere'")
    with pytest.raises(InvalidInput) as refused:
        submit(theme_slug="ephemere")
    assert refused.value.code == "unknown_theme"
    assert Pin.objects.count() == 0 and WriteCounter.objects.count() == 0


def test_a_theme_saved_in_this_process_drops_the_copy_at_once():
    kept = themes.theme_by_slug("acceder-droits")
    kept_again = Theme.objects.get(slug="acceder-droits")
    kept_again.blur_meters = kept.blur_meters + 10
    kept_again.save()
    assert themes.theme_by_slug("acceder-droits").blur_meters == kept.blur_meters + 10
    assert themes.theme_by_slug("acceder-droits") is not kept
