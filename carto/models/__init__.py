from carto.models.actors import Actor
from carto.models.aggregates import PinCell, PinCellTotal, PinHex, PinHexTotal
from carto.models.apikeys import ApiKey, UsedLink
from carto.models.clusters import (
    AuditEntry,
    Cluster,
    ClusterDecision,
    ClusteringFit,
    ClusteringModel,
    ClusterOverride,
    ClusterTerm,
    ClusterTerritory,
    PinCluster,
)
from carto.models.moderation import Comment, Flag, StatusChange
from carto.models.pins import Pin, PinPhoto, Support, WriteCounter
from carto.models.places import PlaceName
from carto.models.responses import Response, ResponseLink
from carto.models.streets import Street
from carto.models.territories import Territory
from carto.models.themes import Theme
from carto.models.transit import RailLine, Station

__all__ = [
    "Comment",
    "Flag",
    "StatusChange",
    "Actor",
    "ApiKey",
    "AuditEntry",
    "Cluster",
    "ClusterDecision",
    "ClusterOverride",
    "ClusteringFit",
    "ClusterTerm",
    "ClusterTerritory",
    "ClusteringModel",
    "PinCluster",
    "Response",
    "ResponseLink",
    "Pin",
    "PinCell",
    "PinCellTotal",
    "PinHex",
    "PinHexTotal",
    "PinPhoto",
    "PlaceName",
    "RailLine",
    "Station",
    "Street",
    "Support",
    "Territory",
    "Theme",
    "UsedLink",
    "WriteCounter",
]
