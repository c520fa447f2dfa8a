from django.urls import path, re_path

from api.open311 import views

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views.discovery, {"fmt": "json"}, name="open311-root"),
    re_path(rf"^discovery{FMT}", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", views.service_list, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]+?){FMT}", views.service_definition, name="open311-service"),
    re_path(rf"^requests{FMT}", views.request_list, name="open311-requests"),
    re_path(rf"^requests/(?P<request_id>[^/]+?){FMT}", views.request_detail, name="open311-request"),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}", views.token_detail, name="open311-token"),
    # Anything else under /open311/v2/ answers in the spec's error shape, not an HTML page.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="open311-not-found"),
]
