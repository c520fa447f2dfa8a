"""The dashboards: /compare/ for associations, /heatmap/ for officials. Data comes from the stats API."""

from __future__ import annotations

from django.shortcuts import render


def compare(request):
    """Side by side comparison of a few territories, per theme and per 1,000 inhabitants."""
    return render(request, "frontend/compare.html")


def heatmap(request):
    """Heatmap of pins and choropleth by commune, EPT, arrondissement or QPV."""
    return render(request, "frontend/heatmap.html")
