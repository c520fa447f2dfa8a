"""The blurred public point never contradicts the territories published with it (carto_pin_preflight).

A pin publishes its arrondissement and QPV, placed from its exact location. When the blur kept the point in
the commune and QPV only, near an arrondissement border the public point often landed in the neighbouring
arrondissement (98 of 200 pins along the 19e/20e border, 150 m theme), and just outside a QPV inside it while
the pin said "no QPV" (57 of 240 around Grand Belleville): the published territory told which side of the
border the resident really was, on a point meant to hide that.
"""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from carto.geo import to_api
from carto.models import Pin, Territory
from carto.services.placement import pins_replace
from tests.factories import BELLEVILLE, make_pin

pytestmark = pytest.mark.django_db


def _along(line, steps: int):
    for i in range(steps):
        yield line.interpolate(line.length * i / steps)


def test_a_pins_public_point_lies_in_the_arrondissement_it_publishes():
    border = Territory.objects.get(code="75120").geometry.intersection(
        Territory.objects.get(code="75119").geometry
    )  # the 19e / 20e border, Lambert-93
    crossed = []
    for point in _along(border, 20):
        for dx in (-8, 8):  # a few metres either side
            here = to_api(Point(point.x + dx, point.y, srid=border.srid))
            pin = make_pin(here.x, here.y, theme="acceder-droits")
            published = Territory.objects.get(pk=pin.arrondissement_id)
            if not published.geometry.intersects(pin.public_location):
                crossed.append(pin.pk)
    assert crossed == []


def test_a_pin_outside_every_qpv_is_not_shown_inside_one():
    ring = Territory.objects.get(code="QN07519M").geometry.boundary  # Grand Belleville
    inside_a_qpv = []
    for point in _along(ring, 20):
        for dx, dy in ((-8, -8), (-8, 8), (8, -8), (8, 8)):
            here = to_api(Point(point.x + dx, point.y + dy, srid=ring.srid))
            pin = make_pin(here.x, here.y, theme="acceder-droits")
            if (
                pin.qpv_id is None
                and Territory.objects.filter(
                    kind=Territory.Kind.QPV, geometry__intersects=pin.public_location
                ).exists()
            ):
                inside_a_qpv.append(pin.pk)
    assert inside_a_qpv == []


def test_replace_pins_blurs_again_the_pins_shown_across_their_border():
    # A pin blurred by the former rule: its public point in the 19e while it publishes the 20e.
    border = Territory.objects.get(code="75120").geometry.intersection(
        Territory.objects.get(code="75119").geometry
    )
    middle = border.interpolate(border.length / 2)
    here = to_api(Point(middle.x + 8, middle.y, srid=border.srid))
    pin = make_pin(here.x, here.y, theme="acceder-droits")
    published = Territory.objects.get(pk=pin.arrondissement_id)
    other = Territory.objects.get(code="75119" if published.code == "75120" else "75120")
    across = other.geometry.point_on_surface
    Pin.objects.filter(pk=pin.pk).update(public_location=across)
    untouched = make_pin(*BELLEVILLE, theme="acceder-droits")

    pins_replace()

    pin.refresh_from_db()
    assert published.geometry.intersects(pin.public_location)
    assert 0 < pin.public_location.distance(pin.location) <= 2 * pin.theme.blur_meters
    # The same public point a new pin at that spot gets: the repair is the write's own rule.
    twin = make_pin(here.x, here.y, theme="acceder-droits")
    assert twin.public_location.equals_exact(pin.public_location, 0.01)
    assert Pin.objects.get(pk=untouched.pk).public_location == untouched.public_location
