"""The dashboards: /compare/ for associations, /heatmap/ for officials. Data comes from the stats API.

Both pages choose territories by name: the names and codes of every territory (338 rows, a few KB) are
written into the page, where listing them through the statistics endpoints would count every pin four times.
"""

from __future__ import annotations

from django.shortcuts import render

from carto.models import Territory


def territory_names() -> list[dict]:
    """Code, name and kind of every territory below the Métropole, by name."""
    rows = Territory.objects.exclude(kind=Territory.Kind.METROPOLE).order_by("name", "code")
    return list(rows.values("code", "name", "kind"))


def compare(request):
    """Side by side comparison of a few territories, per theme and per 1,000 inhabitants."""
    return render(request, "frontend/compare.html", {"territory_names": territory_names()})


def heatmap(request):
    """Heatmap of pins and choropleth by commune, EPT, arrondissement or QPV; the state of needs of one."""
    return render(request, "frontend/heatmap.html", {"territory_names": territory_names()})
