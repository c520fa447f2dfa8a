from __future__ import annotations

from rest_framework import generics

from api.caching import PublicCacheMixin
from api.serializers.themes import ThemeSerializer
from carto.models import Theme


class ThemeListView(PublicCacheMixin, generics.ListAPIView):
    """Every theme with its pictogram and labels in fr, en, ar, zh (groups have no parent). Every page asks for
    them first: cached in the browser, then revalidated with a 304 (an edit in the admin is new bytes)."""

    # Shorter than the territories': a label corrected in the admin reaches phones within five minutes.
    cache_max_age = 300

    serializer_class = ThemeSerializer
    pagination_class = None
    queryset = Theme.objects.select_related("parent").order_by("order", "slug")
