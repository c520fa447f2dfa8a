"""GeoDjango admin with map widgets for territories, actors, themes and pins."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from carto.models import Actor, Pin, Territory, Theme


@admin.register(Territory)
class TerritoryAdmin(GISModelAdmin):
    list_display = ["code", "name", "kind", "population", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    filter_horizontal = ["communes"]


@admin.register(Actor)
class ActorAdmin(GISModelAdmin):
    list_display = ["name", "commune_name", "postcode", "source", "in_mgp"]
    list_filter = ["source", "in_mgp"]
    search_fields = ["name", "address", "commune_name"]
    raw_id_fields = ["commune", "arrondissement"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["slug", "parent", "order", "color", "blur_meters"]
    list_filter = ["parent"]


@admin.register(Pin)
class PinAdmin(GISModelAdmin):
    list_display = ["id", "kind", "theme", "status", "commune", "qpv", "support_count", "created_at"]
    list_filter = ["status", "kind", "theme"]
    search_fields = ["text"]
    raw_id_fields = ["commune", "ept", "arrondissement", "qpv", "author", "mediated_by", "mediated_structure"]
    readonly_fields = [
        "client_uuid",
        "request_fingerprint",
        "device_hash",
        "ip_hash",
        "created_at",
        "updated_at",
    ]
