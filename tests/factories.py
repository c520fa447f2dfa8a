"""Factories for per-test data, on top of the real territories loaded for the session."""

from __future__ import annotations

import uuid

from django.contrib.gis.geos import Point

from carto.models import Pin, Theme
from carto.services.pins import pin_create

BELLEVILLE = (2.3790, 48.8700)  # Belleville, Paris 20e (QPV list: Grand Belleville)
BONDY = (2.4830, 48.9020)  # Bondy centre, Seine-Saint-Denis (T8 Est Ensemble)
VILLENEUVE_LA_GARENNE = (2.3280, 48.9370)  # Villeneuve-la-Garenne, Hauts-de-Seine (T5)
VERSAILLES = (2.1301, 48.8049)  # Versailles, Yvelines: outside the Métropole


def make_pin(
    lon: float = BELLEVILLE[0],
    lat: float = BELLEVILLE[1],
    *,
    theme: str = "acceder-droits",
    kind: str = "need",
    text: str = "Pas d'endroit pour imprimer mes papiers CAF",
    **extra,
) -> Pin:
    """Create a pin through the real service (placement, blur, constraints)."""
    return pin_create(
        client_uuid=uuid.uuid4(),
        kind=kind,
        theme=Theme.objects.get(slug=theme),
        text=text,
        location=Point(lon, lat, srid=4326),
        **extra,
    ).pin
