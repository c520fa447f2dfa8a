from __future__ import annotations

from rest_framework import generics

from api.serializers.themes import ThemeSerializer
from carto.models import Theme


class ThemeListView(generics.ListAPIView):
    """Every theme with its pictogram and labels in fr, en, ar, zh (groups have no parent)."""

    serializer_class = ThemeSerializer
    pagination_class = None
    queryset = Theme.objects.select_related("parent").order_by("order", "slug")
