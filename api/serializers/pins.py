"""Pins out of the API: public GeoJSON features built from plain rows (their input: pin_input.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db.models.functions import Transform
from django.db import connections, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, FloatField, Func, Q, QuerySet, Window

from api.serializers.clusters import CLUSTER_BRIEF_FIELDS
from carto.geo import API_SRID, to_api
from carto.models import Pin, PinPhoto
from carto.services.abuse import held_reason_code
from carto.services.pin_photos import photo_url

COORDINATE_DECIMALS = 5  # about 1 m: public locations are blurred anyway, more digits would only add noise


# Public features are built from plain rows rather than with drf-gis's GeoFeatureModelSerializer:
# one SELECT of named columns (coordinates computed by PostGIS), one for the photos, and a dict per
# row. No model instances, no GEOS objects, no per-field serializer calls (see bench/pins_bbox.py).
# A pin's cluster (CLUSTER_BRIEF_FIELDS); null while the pin is alone in its cluster (or not clustered
# yet). The bbox list's SQL below builds the same object (a test compares them).
CLUSTER_FIELDS = CLUSTER_BRIEF_FIELDS
CLUSTER_MIN_PINS = 2


def _cluster(row: dict) -> dict | None:
    if (row["cluster_link__cluster__pin_count"] or 0) < CLUSTER_MIN_PINS:
        return None
    return {name: row[f"cluster_link__cluster__{name}"] for name in CLUSTER_FIELDS}


_ROW_FIELDS = (
    "id", "kind", "theme__slug", "text", "language", "status", "status_reason", "support_count",
    "created_at", "is_mediated", "lon", "lat",
    "commune__code", "commune__name", "ept__code", "ept__name",
    "arrondissement__code", "arrondissement__name", "qpv__code", "qpv__name",
    *(f"cluster_link__cluster__{name}" for name in CLUSTER_FIELDS),
)  # fmt: skip


def feature_rows(queryset: QuerySet) -> QuerySet:
    """The plain rows a feature is built from; only public columns are ever selected."""
    wgs84 = Transform("public_location", API_SRID)
    return queryset.annotate(
        lon=Func(wgs84, function="ST_X", output_field=FloatField()),
        lat=Func(wgs84, function="ST_Y", output_field=FloatField()),
        is_mediated=ExpressionWrapper(Q(mediated_by__isnull=False), output_field=BooleanField()),
    ).values(*_ROW_FIELDS)


def _territory(row: dict, level: str) -> dict | None:
    code = row[f"{level}__code"]
    return None if code is None else {"code": code, "name": row[f"{level}__name"]}


def _feature(row: dict, photos: list[str], *, owner: bool) -> dict:
    properties = {
        "id": row["id"],
        "kind": row["kind"],
        "theme": row["theme__slug"],
        "text": row["text"],
        "language": row["language"],
        "status": row["status"],
        "support_count": row["support_count"],
        "created_at": row["created_at"],
        "territories": {
            level: _territory(row, level) for level in ("commune", "ept", "arrondissement", "qpv")
        },
        "photos": photos,
        "mediated": row["is_mediated"],
        "cluster": _cluster(row),
    }
    if owner:
        # Only the device or author who made the pin learns why it is held or declined: the screening's
        # reasons as a code the page says in the author's language, a moderator's note as written.
        properties["status_reason"] = row["status_reason"]
        properties["status_reason_code"] = held_reason_code(row["status_reason"])
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {
            "type": "Point",
            "coordinates": [round(row["lon"], COORDINATE_DECIMALS), round(row["lat"], COORDINATE_DECIMALS)],
        },
        "properties": properties,
    }


def pin_features(queryset: QuerySet, *, owner: bool = False) -> list[dict]:
    """Public GeoJSON features of the pins in `queryset` (its order is kept): two queries in all."""
    rows = list(feature_rows(queryset))
    photos: dict[int, list[str]] = {row["id"]: [] for row in rows}
    if rows:
        for pin_id, name in (
            PinPhoto.objects.filter(pin_id__in=list(photos)).order_by("id").values_list("pin_id", "file")
        ):
            photos[pin_id].append(photo_url(name))
    return [_feature(row, photos[row["id"]], owner=owner) for row in rows]


def pin_feature(pin_id: int, *, owner: bool = False) -> dict:
    return pin_features(Pin.objects.filter(pk=pin_id), owner=owner)[0]


# The bbox list builds its whole FeatureCollection page in PostgreSQL (json_build_object/json_agg):
# measured in bench/pins_bbox.py at 100 k pins, building 1,000–10,000 features as Python dicts and
# rendering them cost more than the query itself (the target is ≤ 1.5× the bare SQL json_agg).
# The filters stay an ORM queryset, compiled here with its bound parameters. The page is chosen
# first on carto_pin alone (one narrow top-N sort, with the total as a window count in the same
# pass), and only its rows are joined to their theme and territories and turned into JSON.
# Output matches _feature(): same keys, coordinates rounded to COORDINATE_DECIMALS, created_at as
# DRF renders it (ISO 8601 UTC with "Z", microseconds only when non-zero), photo URLs in id order.
_COLLECTION_SQL = """
WITH page AS MATERIALIZED ({page})
SELECT (SELECT max(total) FROM page), COALESCE(json_agg(json_build_object(
  'type', 'Feature', 'id', p.id,
  'geometry', ST_AsGeoJSON(ST_Transform(p.public_location, %s), %s)::json,
  'properties', json_build_object(
    'id', p.id, 'kind', p.kind, 'theme', t.slug, 'text', p.text, 'language', p.language, 'status', p.status,
    'support_count', p.support_count,
    'created_at', to_char(p.created_at AT TIME ZONE 'UTC',
      CASE WHEN date_trunc('second', p.created_at) = p.created_at THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
           ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END),
    'territories', json_build_object(
      'commune', CASE WHEN c.id IS NULL THEN NULL ELSE json_build_object('code', c.code, 'name', c.name) END,
      'ept', CASE WHEN e.id IS NULL THEN NULL ELSE json_build_object('code', e.code, 'name', e.name) END,
      'arrondissement', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('code', a.code, 'name', a.name) END,
      'qpv', CASE WHEN q.id IS NULL THEN NULL ELSE json_build_object('code', q.code, 'name', q.name) END),
    'photos', COALESCE((SELECT json_agg(%s || ph.file ORDER BY ph.id) FROM carto_pinphoto ph
                        WHERE ph.pin_id = p.id), '[]'::json),
    'mediated', p.mediated_by_id IS NOT NULL,
    'cluster', CASE WHEN cl.pin_count >= %s THEN json_build_object('id', cl.id, 'label', cl.label,
      'pin_count', cl.pin_count, 'support_count', cl.support_count, 'territory_count', cl.territory_count) END)
) ORDER BY p.created_at DESC, p.id DESC), '[]'::json)::text
FROM page
JOIN carto_pin p ON p.id = page.id
JOIN carto_theme t ON t.id = p.theme_id
LEFT JOIN carto_territory c ON c.id = p.commune_id
LEFT JOIN carto_territory e ON e.id = p.ept_id
LEFT JOIN carto_territory a ON a.id = p.arrondissement_id
LEFT JOIN carto_territory q ON q.id = p.qpv_id
LEFT JOIN carto_pincluster pc ON pc.pin_id = p.id
LEFT JOIN carto_cluster cl ON cl.id = pc.cluster_id
"""


def pin_collection_page(queryset: QuerySet, *, start: int, size: int) -> tuple[int | None, str]:
    """(total matching, JSON array text of the public features) for one page, newest first, in one SELECT.

    The total is None when the page is empty (past the end, or nothing matches): the caller counts then.
    """
    page = (
        queryset.order_by("-created_at", "-id")
        .annotate(total=Window(Count("*")))
        .values_list("id", "total")[start : start + size]
    )
    page_sql, page_params = page.query.sql_with_params()
    sql = _COLLECTION_SQL.replace("{page}", page_sql)
    params = [*page_params, API_SRID, COORDINATE_DECIMALS, settings.MEDIA_URL, CLUSTER_MIN_PINS]
    with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
        # PostGIS declares its functions expensive (to favour parallel plans), so any bbox over
        # 100 k pins passes jit_above_cost: JIT compilation then took ~0.5 s of a ~0.9 s query
        # (EXPLAIN ANALYZE, bench/pins_bbox.py). These short OLTP reads never gain from it.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        total, features = cursor.fetchone()
    return total, features


def created_pin_feature(pin: Pin) -> dict | None:
    """The owner's feature of a pin pin_create just wrote, without re-reading it (None if it cannot).

    pin_create leaves the theme and the territories (kind, code, name) cached on the instance, so
    this saves the two SELECTs of pin_feature on the write path (bench/pins_write.py). Pins with
    photos, or without the cached territories, go through pin_feature.
    """
    levels = ("commune", "ept", "arrondissement", "qpv")
    for level in ("theme", *levels):
        field = Pin._meta.get_field(level)
        if getattr(pin, field.attname) is not None and not field.is_cached(pin):
            return None
    here = to_api(pin.public_location)
    row = {
        "id": pin.pk, "kind": pin.kind, "theme__slug": pin.theme.slug, "text": pin.text,
        "language": pin.language, "status": pin.status, "status_reason": pin.status_reason,
        "support_count": pin.support_count, "created_at": pin.created_at,
        "is_mediated": pin.mediated_by_id is not None, "lon": here.x, "lat": here.y,
    }  # fmt: skip
    for level in levels:
        territory = getattr(pin, level)
        row[f"{level}__code"] = territory.code if territory else None
        row[f"{level}__name"] = territory.name if territory else None
    for name in CLUSTER_FIELDS:  # a pin is clustered after its transaction commits: none yet
        row[f"cluster_link__cluster__{name}"] = None
    return _feature(row, [], owner=True)
