from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import basemap, tiles
from api.views import (
    account,
    actors,
    clusters,
    coverage,
    exports,
    map_clusters,
    moderation,
    pins,
    places,
    stats,
    stats_needs,
    stats_qpv,
    stats_quartier,
    territories,
    themes,
)

urlpatterns = [
    # Tried in order: the map's hot path first (each pattern before it is one more match per request).
    path("pins/clusters/", map_clusters.pin_clusters, name="pin-clusters"),
    path("territories/", territories.TerritoryListView.as_view(), name="territory-list"),
    path("territories/<str:code>/", territories.TerritoryDetailView.as_view(), name="territory-detail"),
    path("places/", places.PlaceSearchView.as_view(), name="place-search"),
    path("places/near/", places.PlaceNearView.as_view(), name="place-near"),
    path("actors/", actors.ActorListView.as_view(), name="actor-list"),
    path("actors/export.csv", actors.ActorExportView.as_view(), name="actor-export"),
    path("themes/", themes.ThemeListView.as_view(), name="theme-list"),
    path("pins/", pins.PinListView.as_view(), name="pin-list"),
    path("pins/mine/", pins.PinMineView.as_view(), name="pin-mine"),
    path("pins/similar/", pins.PinSimilarView.as_view(), name="pin-similar"),
    path("pins/batch/", pins.PinBatchView.as_view(), name="pin-batch"),
    path("pins/<int:pk>/", pins.PinDetailView.as_view(), name="pin-detail"),
    path("pins/<int:pk>/support/", pins.PinSupportView.as_view(), name="pin-support"),
    path("pins/<int:pk>/photos/", pins.PinPhotosView.as_view(), name="pin-photos"),
    path("tiles/pins/<str:z>/<str:x>/<str:y>.mvt", tiles.pin_tile_view, name="tile-pins"),
    path("tiles/territories/<str:z>/<str:x>/<str:y>.mvt", tiles.territory_tile_view, name="tile-territories"),
    path(
        "tiles/orientation/<str:z>/<str:x>/<str:y>.mvt", tiles.orientation_tile_view, name="tile-orientation"
    ),
    path("basemap.pmtiles", basemap.basemap_view, name="basemap"),
    path("stats/territories/", stats.TerritoryStatsView.as_view(), name="stats-territories"),
    path("stats/compare/", stats.CompareView.as_view(), name="stats-compare"),
    path("stats/hexbins/", stats.HexbinView.as_view(), name="stats-hexbins"),
    path("stats/qpv/<str:code>/", stats_qpv.QpvVersusCommuneView.as_view(), name="stats-qpv"),
    path("stats/qpv/<str:code>/needs/", stats_quartier.QuartierNeedsView.as_view(), name="stats-qpv-needs"),
    path("stats/needs/<str:code>/", stats_needs.NeedsView.as_view(), name="stats-needs"),
    path("clusters/", clusters.ClusterListView.as_view(), name="cluster-list"),
    path("clusters/<int:pk>/", clusters.ClusterDetailView.as_view(), name="cluster-detail"),
    path("clusters/<int:pk>/merge/", clusters.ClusterMergeView.as_view(), name="cluster-merge"),
    path("clusters/<int:pk>/split/", clusters.ClusterSplitView.as_view(), name="cluster-split"),
    path("clusters/<int:pk>/decisions/", clusters.ClusterDecisionView.as_view(), name="cluster-decisions"),
    path("clusters/<int:pk>/responses/", clusters.ClusterResponsesView.as_view(), name="cluster-responses"),
    path("pins/<int:pk>/actors/", clusters.PinActorsView.as_view(), name="pin-actors"),
    path("coverage/", coverage.CoverageView.as_view(), name="coverage"),
    path("coverage/gaps.geojson", coverage.CoverageGapsView.as_view(), name="coverage-gaps"),
    path("exports/pins.csv", exports.pins_csv, name="export-pins-csv"),
    path("exports/pins.geojson", exports.pins_geojson, name="export-pins-geojson"),
    path("account/export/", account.AccountExportLinkView.as_view(), name="account-export"),
    path(
        "account/export/<str:token>/",
        account.AccountExportDownloadView.as_view(),
        name="account-export-download",
    ),
    path("account/delete/", account.AccountDeleteView.as_view(), name="account-delete"),
    path("auth/token/", account.ObtainExpiringToken.as_view(), name="auth-token"),
    path("pins/<int:pk>/flags/", moderation.PinFlagView.as_view(), name="pin-flags"),
    path("pins/<int:pk>/status/", moderation.PinStatusView.as_view(), name="pin-status"),
    path("pins/<int:pk>/timeline/", moderation.PinTimelineView.as_view(), name="pin-timeline"),
    path("pins/<int:pk>/comments/", moderation.PinCommentsView.as_view(), name="pin-comments"),
    path("moderation/queue/", moderation.ModerationQueueView.as_view(), name="moderation-queue"),
    *(
        path(
            f"moderation/pins/<int:pk>/{op}/",
            moderation.PinModerationView.as_view(operation=op),
            name=f"pin-{op}",
        )
        for op in ("hide", "restore", "redact")
    ),
    *(
        path(
            f"moderation/comments/<int:pk>/{op}/",
            moderation.CommentModerationView.as_view(operation=op),
            name=f"comment-{op}",
        )
        for op in ("hide", "restore")
    ),
    path("audit/", moderation.AuditView.as_view(), name="audit"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP forbids inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]
