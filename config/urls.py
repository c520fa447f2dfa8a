from django.contrib import admin
from django.urls import include, path, re_path

from api.views.health import healthz, readyz
from api.views.photos import photo_file

urlpatterns = [
    # Tried in order: the API (the map's requests) first, its prefix shared with no other pattern.
    path("api/", include("api.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("open311/v2/", include("api.open311.urls")),
    path("", include("frontend.urls")),
    # Photos are already stripped of metadata and named at random; served while their pin is not hidden
    # (api.views.photos): a proxy in front passes /media/photos/ to the app, it never serves MEDIA_ROOT itself.
    re_path(r"^media/(?P<path>photos/[0-9a-f]{32}\.(?:jpg|png|webp))$", photo_file),
]

handler400 = "api.errors.json_400"
handler403 = "api.errors.json_403"
handler404 = "api.errors.json_404"
handler500 = "api.errors.json_500"
