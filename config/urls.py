from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("frontend.urls")),
]

handler404 = "api.errors.json_404"
handler500 = "api.errors.json_500"
