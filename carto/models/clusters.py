"""Clusters: pins that express the same need, across territories, with curator overrides and audit."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q


class Float4Field(models.FloatField):
    """A single-precision float (`real`): embeddings need no more, and it halves their storage."""

    def db_type(self, connection):
        return "real"


# Bumped on every write of a cluster's embedding: processes refresh their centroid matrix from the rows
# with a larger value (carto.clustering.embeddings.CentroidCache).
CLUSTER_SEQUENCE = "carto_cluster_seq"


class Cluster(models.Model):
    """A group of pins expressing the same need; counts are kept by carto.services.clustering."""

    label = models.CharField(max_length=200)
    # A curator renamed it: the generated label no longer replaces it.
    label_locked = models.BooleanField(default=False)
    # Theme slugs of its pins, most frequent first (the resident's theme is a hint, not a wall).
    themes = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    theme_counts = models.JSONField(default=dict, blank=True)
    pin_count = models.PositiveIntegerField(default=0)
    support_count = models.PositiveIntegerField(default=0)
    # Number of distinct communes its pins are in ("territories spanned" in lists and coverage).
    territory_count = models.PositiveIntegerField(default=0)
    # Sparse TF-IDF centroid: running sum of its pins' unit vectors, truncated to its strongest terms.
    centroid = models.JSONField(default=dict, blank=True)
    # e5 centroid: sum of its pins' centred unit embeddings (384 reals; cosine ignores the length).
    # Added to in SQL by cluster_assign, so concurrent joins never lose a vector.
    embedding = ArrayField(Float4Field(), null=True, blank=True)
    # nextval(CLUSTER_SEQUENCE) at each embedding write; 0 = never embedded.
    seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-territory_count", "-pin_count", "id"]
        indexes = [
            # GET /api/clusters/ and /api/coverage/: ordered by territories then pins.
            models.Index(fields=["-territory_count", "-pin_count", "id"], name="cluster_span_order"),
            # GET /api/clusters/?theme=
            GinIndex(fields=["themes"], name="cluster_themes_gin"),
            # Per-process centroid caches read the clusters written since their last look.
            models.Index(fields=["seq"], name="cluster_seq"),
        ]

    def __str__(self) -> str:
        return f"Cluster {self.pk}: {self.label[:40]}"


class ClusterTerm(models.Model):
    """Inverted index term -> cluster: the candidate clusters of a new pin are those sharing a key term.

    Keeps `cluster_assign` independent of the number of clusters: one index scan on `term`.
    """

    term = models.CharField(max_length=100)
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="terms")

    class Meta:
        constraints = [
            # Its index serves the candidate query: WHERE term = ANY(%s) GROUP BY cluster_id.
            models.UniqueConstraint(fields=["term", "cluster"], name="cluster_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.term} -> {self.cluster_id}"


class ClusterTerritory(models.Model):
    """How many of a cluster's pins fall in one territory (commune, EPT or QPV)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="territories")
    territory = models.ForeignKey("carto.Territory", on_delete=models.PROTECT, related_name="+")
    pin_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["cluster", "-pin_count", "territory"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "territory"], name="cluster_territory_unique"),
        ]
        indexes = [
            # GET /api/clusters/?territory=<code>
            models.Index(fields=["territory", "cluster"], name="cluster_territory_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id}@{self.territory_id}: {self.pin_count}"


class PinCluster(models.Model):
    """The cluster of one pin (kept apart from Pin so that clustering never rewrites pins)."""

    pin = models.OneToOneField("carto.Pin", on_delete=models.CASCADE, related_name="cluster_link")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="pin_links")
    similarity = models.FloatField(default=1.0)
    # A curator placed this pin: automatic assignment leaves it where it is.
    pinned_by_curator = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["cluster", "pin"], name="pin_cluster_members")]

    def __str__(self) -> str:
        return f"pin {self.pin_id} -> cluster {self.cluster_id}"


class PinEmbedding(models.Model):
    """A pin's raw (uncentred) multilingual-e5-small embedding, float16 (768 bytes).

    Kept so that `recluster` (new mean vector, new centroids) never re-encodes stored pins:
    encoding costs ~20-45 ms of CPU per text, hours at 1 M pins.
    """

    pin = models.OneToOneField("carto.Pin", on_delete=models.CASCADE, primary_key=True, related_name="+")
    vector = models.BinaryField()

    def __str__(self) -> str:
        return f"embedding of pin {self.pin_id}"


class ClusterOverride(models.Model):
    """A curator's choice, replayed in id order after every recluster.

    Stored against pins (anchors), not cluster ids, because a recluster may rebuild clusters.
    """

    class Kind(models.TextChoices):
        MERGE = "merge", "Merge the clusters of two pins"
        SPLIT = "split", "Split a pin out into its own cluster"
        RENAME = "rename", "Rename the cluster of a pin"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="+")
    other_pin = models.ForeignKey(
        "carto.Pin", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="cluster_override_kind_valid", condition=Q(kind__in=["merge", "split", "rename"])
            ),
            models.CheckConstraint(
                name="cluster_override_merge_has_other",
                condition=~Q(kind="merge") | Q(other_pin__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} pin {self.pin_id}"


class ClusteringFit(models.Model):
    """One version of the learnt transform of e5 vectors (mean and whitening), from `fit_clustering`.

    The rebuild uses the latest; the incremental path uses the one the clusters were built with
    (ClusteringModel.fit), so that every cluster sum and every new pin live in the same space.
    """

    # Mean raw e5 vector of the labelled texts (float32 bytes, 384 values).
    mean = models.BinaryField()
    # Whitening map, 384 x 384 float32 bytes (row-major): centred unit rows are multiplied by it.
    matrix = models.BinaryField()
    shrinkage = models.FloatField()
    groups = models.PositiveIntegerField(default=0)
    texts = models.PositiveIntegerField(default=0)
    decisions = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"clustering fit v{self.pk}: {self.groups} groups, {self.decisions} decisions"


class ClusterDecision(models.Model):
    """A curator's word on two pins: the same need or not. The latest decision on a pair wins.

    The next rebuild uses them as must-link / cannot-link pairs, and `fit_clustering` learns from the
    "same" ones. Every decision is kept (history) and audited; pin < other_pin.
    """

    pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="+")
    other_pin = models.ForeignKey("carto.Pin", on_delete=models.CASCADE, related_name="+")
    same = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="cluster_decision_ordered", condition=Q(pin__lt=models.F("other_pin"))
            ),
        ]
        indexes = [
            # The latest decision of each pair (DISTINCT ON (pin, other_pin) ... ORDER BY id DESC).
            models.Index(fields=["pin", "other_pin", "-id"], name="cluster_decision_pair"),
            # A pin's decisions, from either side (cluster_assign's cannot-links).
            models.Index(fields=["other_pin"], name="cluster_decision_other"),
        ]

    def __str__(self) -> str:
        return f"{self.pin_id} {'=' if self.same else '≠'} {self.other_pin_id}"


class ClusteringModel(models.Model):
    """The TF-IDF document frequencies used by cluster_assign, fitted by `recluster` (one row)."""

    state = models.JSONField(default=dict)
    # Mean raw e5 vector the clusters were built with (float32 bytes): a copy of the fit's, kept for
    # inspection; the transform itself is `fit` (None: carto/clustering/e5_fit.npz).
    embedding_mean = models.BinaryField(null=True, blank=True)
    # "e5" or "tfidf": the method the clusters were last rebuilt with.
    method = models.CharField(max_length=10, blank=True)
    # The transform the stored cluster sums were built with (None: the shipped default).
    fit = models.ForeignKey(ClusteringFit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"TF-IDF v{self.version}"


class AuditEntry(models.Model):
    """Who did what to which object, and why: one row per curator or moderator action."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    reason = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The history of one object.
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
