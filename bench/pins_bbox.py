"""GET /api/pins/?bbox= at 1 k and 10 k features against a naive drf-gis view and the bare SQL json_agg.

    .venv/bin/python bench/pins_bbox.py [--count 100000]

Same bbox (central Paris), same first page of N features, same order, in the same run:
- the endpoint (count + plain rows + photos, features built as dicts, see api/serializers/pins.py);
- a naive drf-gis GeoFeatureModelSerializer over model instances (territories via select_related);
- the bare SQL: one SELECT building the whole FeatureCollection with json_agg in PostgreSQL, with
  the page chosen first on carto_pin alone and JIT off (as the endpoint does: the best bare form
  found; the first form, joining before the top-N sort with JIT on, took ~0.9 s for 1,000 features).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_pins import ensure_pins, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

BBOX = (2.25, 48.81, 2.42, 48.90)  # central Paris
JSON_AGG_SQL = """
WITH page AS MATERIALIZED (
  SELECT p.id, p.created_at FROM carto_pin p
  WHERE p.status = ANY(%s)
    AND ST_Intersects(p.public_location, ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 2154))
  ORDER BY p.created_at DESC, p.id DESC
  LIMIT %s
)
SELECT json_build_object('type', 'FeatureCollection', 'features', COALESCE(json_agg(f), '[]'::json))::text FROM (
  SELECT json_build_object(
    'type', 'Feature', 'id', p.id,
    'geometry', ST_AsGeoJSON(ST_Transform(p.public_location, 4326), 5)::json,
    'properties', json_build_object(
      'id', p.id, 'kind', p.kind, 'theme', t.slug, 'text', p.text, 'language', p.language, 'status', p.status,
      'support_count', p.support_count, 'created_at', p.created_at,
      'territories', json_build_object(
        'commune', json_build_object('code', c.code, 'name', c.name),
        'ept', json_build_object('code', e.code, 'name', e.name),
        'arrondissement', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('code', a.code, 'name', a.name) END,
        'qpv', CASE WHEN q.id IS NULL THEN NULL ELSE json_build_object('code', q.code, 'name', q.name) END),
      'photos', '[]'::json, 'mediated', p.mediated_by_id IS NOT NULL, 'cluster', NULL)) AS f
  FROM page JOIN carto_pin p ON p.id = page.id
  JOIN carto_theme t ON t.id = p.theme_id
  JOIN carto_territory c ON c.id = p.commune_id
  JOIN carto_territory e ON e.id = p.ept_id
  LEFT JOIN carto_territory a ON a.id = p.arrondissement_id
  LEFT JOIN carto_territory q ON q.id = p.qpv_id
  ORDER BY page.created_at DESC, page.id DESC
) AS rows
"""


def interleaved(fns, repeat: int) -> list[float]:
    """Median time of each function, run round-robin so that load changes on a shared machine hit all alike."""
    for fn in fns:
        fn()  # warm-up
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, samples, strict=True):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    use_bench_database()
    ensure_pins(args.count, 200)

    from django.conf import settings
    from django.contrib.gis.db.models.functions import Transform
    from django.contrib.gis.geos import Polygon
    from django.db import connection, transaction
    from django.test import Client
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer
    from rest_framework_gis.fields import GeometryField
    from rest_framework_gis.serializers import GeoFeatureModelSerializer

    from carto.models import Pin

    class NaiveSerializer(GeoFeatureModelSerializer):
        geometry = GeometryField(source="public_wgs84", precision=5)
        theme = serializers.SlugRelatedField(slug_field="slug", read_only=True)
        territories = serializers.SerializerMethodField()

        class Meta:
            model = Pin
            geo_field = "geometry"
            fields = [
                "id",
                "kind",
                "theme",
                "text",
                "language",
                "status",
                "support_count",
                "created_at",
                "territories",
            ]

        def get_territories(self, pin):
            def ref(t):
                return None if t is None else {"code": t.code, "name": t.name}

            return {"commune": ref(pin.commune), "ept": ref(pin.ept), "arrondissement": ref(pin.arrondissement),
                    "qpv": ref(pin.qpv)}  # fmt: skip

    settings.CARTO_PINS_MAX_FEATURES = 10**7
    client = Client()
    bbox = ",".join(str(v) for v in BBOX)
    polygon = Polygon.from_bbox(BBOX)
    polygon.srid = 4326
    print(
        f"pins in table: {Pin.objects.count()}; in bbox: {Pin.objects.visible().filter(public_location__intersects=polygon).count()}"
    )
    for n in (1_000, 10_000):
        settings.CARTO_PINS_PAGE_SIZE = n

        def endpoint(n=n):
            assert client.get(f"/api/pins/?bbox={bbox}").status_code == 200

        def naive(n=n):
            queryset = (
                Pin.objects.visible()
                .filter(public_location__intersects=polygon)
                .select_related("theme", "commune", "ept", "arrondissement", "qpv")
                .annotate(public_wgs84=Transform("public_location", 4326))
                .order_by("-created_at", "-id")[:n]
            )
            JSONRenderer().render(NaiveSerializer(queryset, many=True).data)

        def bare(n=n):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(JSON_AGG_SQL, [list(Pin.VISIBLE_STATUSES), *BBOX, n])
                cursor.fetchone()

        assert len(client.get(f"/api/pins/?bbox={bbox}").json()["features"]) == n  # checked once, untimed
        t_api, t_naive, t_bare = interleaved([endpoint, naive, bare], args.repeat)
        print(f"{n:>6} features: endpoint {t_api * 1000:.0f} ms, naive drf-gis {t_naive * 1000:.0f} ms, "
              f"bare json_agg {t_bare * 1000:.0f} ms -> naive/endpoint {t_naive / t_api:.1f}x (target >= 10x), "
              f"endpoint/json_agg {t_api / t_bare:.2f}x (target <= 1.5x)")  # fmt: skip
        emit("pins_bbox", f"GeoJSON {n} features: endpoint / bare json_agg", t_api * 1000, t_bare * 1000,
             t_api / t_bare, "<= 1.5x", t_api / t_bare <= 1.5)  # fmt: skip
        emit("pins_bbox", f"GeoJSON {n} features: naive drf-gis / endpoint", t_api * 1000, t_naive * 1000,
             t_naive / t_api, ">= 10x faster", t_naive / t_api >= 10)  # fmt: skip


if __name__ == "__main__":
    main()
