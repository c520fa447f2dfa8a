from django.contrib.auth import views as auth_views
from django.urls import path

from frontend.views import coverage, dashboards, home, moderation

urlpatterns = [
    path("", home.home, name="home"),
    path("compare/", dashboards.compare, name="compare"),
    path("heatmap/", dashboards.heatmap, name="heatmap"),
    path("coverage/", coverage.coverage_page, name="coverage-page"),
    path("moderation/", moderation.moderation, name="moderation"),
    path("sw.js", home.service_worker, name="service-worker"),
    path("favicon.svg", home.favicon, name="favicon"),
    path("favicon.ico", home.favicon),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", next_page="/"),
        name="login",
    ),
]
