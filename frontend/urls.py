from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views, views_dashboards

urlpatterns = [
    path("", views.home, name="home"),
    path("compare/", views_dashboards.compare, name="compare"),
    path("heatmap/", views_dashboards.heatmap, name="heatmap"),
    path("sw.js", views.service_worker, name="service-worker"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", next_page="/"),
        name="login",
    ),
]
