"""POST /api/pins/ p50 against a bare INSERT of the same row, measured in the same run.

    .venv/bin/python bench/pins_write.py [--n 120]

Both sides write to the bench database (bench/generate_pins.py) through the same connection.
The API side goes through the Django test Client: parsing, validation, replay check, placement in
the territories, privacy blur, throttle counters, spam score, insert, the clustering job queued in the same
transaction (carto.tasks; the worker is not running here: clustering is off the request), and the GeoJSON
response. The baseline is one INSERT with every column already computed (what the API ends up writing),
committed alone; the map aggregates trigger fires on both sides.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_pins import ensure_pins, use_bench_database  # noqa: E402
from bench.run_all import emit  # noqa: E402

BARE_INSERT = """
INSERT INTO carto_pin (client_uuid, request_fingerprint, kind, theme_id, text, language, location, public_location,
  commune_id, ept_id, arrondissement_id, qpv_id, status, status_reason, device_hash, ip_hash, spam_score,
  support_count, created_at, updated_at, consent)
SELECT %s, request_fingerprint, kind, theme_id, text, language, location, public_location, commune_id, ept_id,
  arrondissement_id, qpv_id, status, status_reason, device_hash, ip_hash, spam_score, 0, now(), now(), NULL
FROM (VALUES (%s, 'need', %s::bigint, %s, 'fr', ST_GeomFromEWKB(%s), ST_GeomFromEWKB(%s), %s::bigint, %s::bigint,
              %s::bigint, %s::bigint, 'received', '', %s, %s, 0.0))
  AS v(request_fingerprint, kind, theme_id, text, language, location, public_location, commune_id, ept_id,
       arrondissement_id, qpv_id, status, status_reason, device_hash, ip_hash, spam_score)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    use_bench_database()
    ensure_pins(args.count, 200)

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from carto.models import Pin

    settings.CARTO_THROTTLE_DEVICE_PER_HOUR = settings.CARTO_THROTTLE_IP_PER_HOUR = 10**9
    settings.CARTO_THROTTLE_AREA_PER_HOUR = 10**9
    client = Client()
    lons = [2.3790 + 0.0004 * (i % 25) for i in range(args.n)]
    api, bare = [], []
    created: list[int] = []

    def post(client, i):
        body = {
            "client_uuid": str(uuid.uuid4()),
            "kind": "need",
            "theme": "acceder-droits",
            "text": f"Pas d'endroit pour imprimer mes papiers CAF ({i})",
            "location": {"type": "Point", "coordinates": [lons[i], 48.8700]},
        }
        token = f"bench-device-{uuid.uuid4().hex}"
        started = time.perf_counter()
        response = client.post("/api/pins/", json.dumps(body), content_type="application/json",
                               HTTP_X_DEVICE_TOKEN=token)  # fmt: skip
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.content
        created.append(response.json()["id"])
        return elapsed, response.json()["id"]

    api_ids = []
    for i in range(args.n):
        elapsed, pin_id = post(client, i)
        api.append(elapsed)
        api_ids.append(pin_id)
    # The baseline: the same rows, INSERTed alone (autocommit, as the API commits), the aggregates trigger
    # firing as for the API's insert; deleted afterwards (the trigger takes them out of the aggregates).
    bare_ids = []
    with connection.cursor() as cursor:
        for pin in Pin.objects.filter(pk__in=api_ids).order_by("id"):
            params = [
                str(uuid.uuid4()), pin.request_fingerprint, pin.theme_id, pin.text, bytes(pin.location.ewkb),
                bytes(pin.public_location.ewkb), pin.commune_id, pin.ept_id, pin.arrondissement_id, pin.qpv_id,
                pin.device_hash, pin.ip_hash,
            ]  # fmt: skip
            started = time.perf_counter()
            cursor.execute(BARE_INSERT + " RETURNING id", params)
            bare_ids.append(cursor.fetchone()[0])
            bare.append(time.perf_counter() - started)
        Pin.objects.filter(pk__in=bare_ids).delete()
    warm = args.n // 10  # the first requests pay for imports and caches
    api_p50, bare_p50 = statistics.median(api[warm:]), statistics.median(bare[warm:])
    print(f"pins in table: {Pin.objects.count()}")
    print(f"POST /api/pins/ p50 {api_p50 * 1000:.2f} ms   bare INSERT p50 {bare_p50 * 1000:.2f} ms")
    print(f"ratio API / bare INSERT: {api_p50 / bare_p50:.1f}x (target <= 3x)")
    emit("pins_write", "POST /api/pins/ p50 / bare INSERT p50 (trigger on both)", api_p50 * 1000,
         bare_p50 * 1000, api_p50 / bare_p50, "<= 3x", api_p50 / bare_p50 <= 3)  # fmt: skip
    # Leave the data set as generated (the other benches compare its size with --count), and no job behind.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = 'carto.cluster_pin'"
            " AND (args ->> 'pin_id')::bigint = ANY(%s)",
            [created],
        )
    Pin.objects.filter(pk__in=created).delete()


if __name__ == "__main__":
    main()
