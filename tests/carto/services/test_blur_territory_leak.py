"""Attack pass, for the pin write path's owners (carto/sql/placement.py, carto/services/privacy.py): the
blurred public point must not contradict the territories published with it.

A pin publishes its arrondissement and QPV, placed from its exact location, beside a public point blurred
inside its commune and QPV only. Near an arrondissement border the public point often lands in the
neighbouring arrondissement (98 of 200 pins along the 19e/20e border, 150 m theme); just outside a QPV it
lands inside the QPV while the pin says "no QPV" (57 of 240 around Grand Belleville). Either way the
published territory tells which side of the border the resident really is, on a point meant to hide that.
"""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from carto.geo import to_api
from carto.models import Territory
from tests.factories import make_pin

pytestmark = pytest.mark.django_db

OWNER = "the pin write path (carto/sql/placement.py _PREFLIGHT_SQL area, carto/services/privacy.py)"


def _along(line, steps: int):
    for i in range(steps):
        yield line.interpolate(line.length * i / steps)


@pytest.mark.xfail(
    strict=True,
    reason=f"{OWNER}: the blur area is commune ∩ QPV, not the arrondissement that is published",
)
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


@pytest.mark.xfail(
    strict=True,
    reason=f"{OWNER}: a pin outside every QPV may be blurred into one while it publishes qpv: null",
)
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
