from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import actors, territories, themes

urlpatterns = [
    path("territories/", territories.TerritoryListView.as_view(), name="territory-list"),
    path("territories/<str:code>/", territories.TerritoryDetailView.as_view(), name="territory-detail"),
    path("actors/", actors.ActorListView.as_view(), name="actor-list"),
    path("actors/export.csv", actors.ActorExportView.as_view(), name="actor-export"),
    path("themes/", themes.ThemeListView.as_view(), name="theme-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
