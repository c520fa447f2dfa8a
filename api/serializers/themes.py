from __future__ import annotations

from django.templatetags.static import static
from rest_framework import serializers

from carto.models import Theme


class ThemeSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    pictogram_url = serializers.SerializerMethodField()

    class Meta:
        model = Theme
        fields = ["slug", "parent", "order", "color", "pictogram_url", "labels", "easy", "services"]

    def get_pictogram_url(self, theme: Theme) -> str:
        return static(f"pictograms/{theme.pictogram}")
