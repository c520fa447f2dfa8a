from django.urls import path, re_path

from api.open311 import views

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", views.RootView.as_view(), {"fmt": "json"}, name="open311-root"),
    re_path(rf"^discovery{FMT}", views.DiscoveryView.as_view(), name="open311-discovery"),
    re_path(rf"^services{FMT}", views.ServiceListView.as_view(), name="open311-services"),
    re_path(
        rf"^services/(?P<code>[^/]+?){FMT}", views.ServiceDefinitionView.as_view(), name="open311-service"
    ),
    re_path(rf"^requests{FMT}", views.RequestListView.as_view(), name="open311-requests"),
    re_path(
        rf"^requests/(?P<request_id>[^/]+?){FMT}", views.RequestDetailView.as_view(), name="open311-request"
    ),
    re_path(rf"^tokens/(?P<token>[^/]+?){FMT}", views.TokenView.as_view(), name="open311-token"),
    # Anything else under /open311/v2/ answers in the spec's error shape, not an HTML page.
    # [\s\S], not ".": an address with an encoded newline (%0A) must not fall through to an HTML page.
    re_path(r"^(?P<rest>[\s\S]*)$", views.not_found, name="open311-not-found"),
]
