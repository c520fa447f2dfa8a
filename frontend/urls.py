from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views, views_coverage, views_dashboards, views_moderation

urlpatterns = [
    path("", views.home, name="home"),
    path("compare/", views_dashboards.compare, name="compare"),
    path("heatmap/", views_dashboards.heatmap, name="heatmap"),
    path("coverage/", views_coverage.coverage_page, name="coverage-page"),
    path("coverage/gaps.geojson", views_coverage.coverage_gaps, name="coverage-gaps"),
    path("moderation/", views_moderation.moderation, name="moderation"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("favicon.svg", views.favicon, name="favicon"),
    path("favicon.ico", views.favicon),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", next_page="/"),
        name="login",
    ),
]
