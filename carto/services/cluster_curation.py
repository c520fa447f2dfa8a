"""Curator actions on clusters (merge, split, rename, "same need" / "not the same need") and the curator
check.

Curators' words name pins, not clusters, so that cluster_rebuild can replay them after a recluster:
merges, splits and decisions are stored as pairs of pins (ClusterDecision: must-link / cannot-link),
renames as overrides.
"""

from __future__ import annotations

from django.db import transaction

from carto.errors import InvalidInput, NotAllowed
from carto.models import Cluster, ClusterDecision, ClusterOverride, Pin, PinCluster
from carto.roles import Action, can
from carto.services.audit import audit
from carto.services.clustering import LABEL_LENGTH, cluster_refresh


def is_curator(user) -> bool:
    """Moderators, associations and admins (the roles matrix, Action.CLUSTER_CURATE)."""
    return can(user, Action.CLUSTER_CURATE)


def require_curator(user) -> None:
    if not is_curator(user):
        raise NotAllowed("not_a_curator", "Only moderators and associations may curate clusters.")


def _anchor(cluster: Cluster, *, besides: int | None = None) -> int:
    """A cluster's lowest pin id (other than `besides`): what an override or a decision names, since
    cluster ids may change on recluster."""
    pin_id = (
        PinCluster.objects.filter(cluster=cluster)
        .exclude(pin_id=besides)
        .order_by("pin_id")
        .values_list("pin_id", flat=True)
        .first()
    )
    if pin_id is None:
        raise InvalidInput(
            "empty_cluster", "This cluster has no other pin.", fields={"cluster": [str(cluster.pk)]}
        )
    return pin_id


@transaction.atomic(durable=True)
def cluster_merge(*, cluster: Cluster, other: Cluster, actor, reason: str = "") -> Cluster:
    """Move every pin (and confirmed response) of `other` into `cluster`, then delete `other`."""
    require_curator(actor)
    if cluster.pk == other.pk:
        raise InvalidInput(
            "self_merge", "A cluster cannot be merged with itself.", fields={"other": [str(other.pk)]}
        )
    # Lock both rows in id order: two opposite merges at once wait instead of deadlocking.
    locked = {
        c.pk: c
        for c in Cluster.objects.select_for_update().filter(pk__in=[cluster.pk, other.pk]).order_by("id")
    }
    cluster, other = locked[cluster.pk], locked[other.pk]
    _decide(_anchor(cluster), _anchor(other), same=True, actor=actor, reason=reason)
    PinCluster.objects.filter(cluster=other).update(cluster=cluster)
    linked = set(cluster.response_links.values_list("response_id", flat=True))
    other.response_links.exclude(response_id__in=linked).update(cluster=cluster)
    audit(actor=actor, action="cluster_merge", obj=cluster, reason=reason, data={"other": other.pk})
    other.delete()
    return cluster_refresh(cluster)


@transaction.atomic(durable=True)
def cluster_split(*, cluster: Cluster, pin: Pin, actor, reason: str = "") -> Cluster:
    """Take one pin out of its cluster into a new cluster of its own; returns the new cluster.

    Stored as "not the same need" between the pin and the cluster's anchor, so a rebuild keeps them apart.
    """
    require_curator(actor)
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    link = PinCluster.objects.filter(pin=pin, cluster=cluster).first()
    if link is None:
        raise InvalidInput(
            "pin_not_in_cluster", "This pin is not in this cluster.", fields={"pin": [str(pin.pk)]}
        )
    if PinCluster.objects.filter(cluster=cluster).count() < 2:
        raise InvalidInput(
            "last_pin", "This pin is alone in its cluster already.", fields={"pin": [str(pin.pk)]}
        )
    _decide(pin.pk, _anchor(cluster, besides=pin.pk), same=False, actor=actor, reason=reason)
    new = _move(link, to=None)
    audit(
        actor=actor, action="cluster_split", obj=cluster, reason=reason, data={"pin": pin.pk, "new": new.pk}
    )
    cluster_refresh(cluster)
    return cluster_refresh(new)


@transaction.atomic(durable=True)
def cluster_decide(*, cluster: Cluster, pin: Pin, same: bool, actor, reason: str = "") -> Cluster:
    """A curator's word on one visible pin and a cluster: the same need (the pin moves in) or not (the
    pin moves out to a cluster of its own). Stored as a pair with the cluster's anchor pin, audited,
    used by the next rebuild as a must-link / cannot-link and by `fit_clustering`; returns `cluster`.
    The latest word on a pair wins; both stay in the audit."""
    require_curator(actor)
    if not pin.is_visible:
        raise InvalidInput(
            "pin_not_visible", "Only visible pins can be curated.", fields={"pin": [str(pin.pk)]}
        )
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    anchor = _anchor(cluster, besides=pin.pk)
    decision = _decide(pin.pk, anchor, same=same, actor=actor, reason=reason)
    link = PinCluster.objects.select_for_update().filter(pin=pin).first()
    other: Cluster | None = None  # the pin's cluster besides `cluster`, before or after the move
    if same and link is not None and link.cluster_id == cluster.pk:
        # Confirmed where it is: placed by a curator from now on (and out of the queue of doubts).
        link.pinned_by_curator = True
        link.save(update_fields=["pinned_by_curator"])
    elif same:
        other = link.cluster if link is not None else None
        _move(link or PinCluster(pin=pin), to=cluster)
    elif not same and link is not None and link.cluster_id == cluster.pk:
        other = _move(link, to=None)
    audit(
        actor=actor,
        action="cluster_decision",
        obj=cluster,
        reason=reason,
        data={"pin": pin.pk, "other_pin": anchor, "same": same, "decision": decision.pk},
    )
    if other is not None:
        if PinCluster.objects.filter(cluster=other).exists() or other.response_links.exists():
            cluster_refresh(other)
        else:
            other.delete()
    return cluster_refresh(cluster)


def _decide(a: int, b: int, *, same: bool, actor, reason: str) -> ClusterDecision:
    return ClusterDecision.objects.create(
        pin_id=min(a, b),
        other_pin_id=max(a, b),
        same=same,
        reason=reason[:500],
        created_by=actor if actor and actor.is_authenticated else None,
    )


def _move(link: PinCluster, *, to: Cluster | None) -> Cluster:
    """Put a pin in `to` (or a new cluster of its own), as a curator's placement; returns its cluster."""
    if to is None:
        to = Cluster.objects.create(label=link.pin.text[:LABEL_LENGTH])
    link.cluster, link.pinned_by_curator, link.similarity = to, True, 1.0
    link.save()
    return to


@transaction.atomic(durable=True)
def cluster_rename(*, cluster: Cluster, label: str, actor, reason: str = "") -> Cluster:
    """Give a cluster a curator's label, kept through later assignments and reclusters."""
    require_curator(actor)
    label = label.strip() if isinstance(label, str) else ""
    if not label or len(label) > LABEL_LENGTH:
        raise InvalidInput(
            "invalid_label", f"label must be 1 to {LABEL_LENGTH} characters", fields={"label": ["invalid"]}
        )
    cluster = Cluster.objects.select_for_update().get(pk=cluster.pk)
    ClusterOverride.objects.create(
        kind=ClusterOverride.Kind.RENAME, pin_id=_anchor(cluster), label=label, created_by=actor
    )
    audit(
        actor=actor,
        action="cluster_rename",
        obj=cluster,
        reason=reason,
        data={"from": cluster.label, "to": label},
    )
    cluster.label, cluster.label_locked = label, True
    cluster.save(update_fields=["label", "label_locked", "updated_at"])
    return cluster
