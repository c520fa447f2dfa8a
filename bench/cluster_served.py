"""Clustering quality as residents are served it: one half of the labelled set posted through the API.

    .venv/bin/python bench/cluster_served.py                  # the checking half, rebuild a quiet minute after the first pin
    .venv/bin/python bench/cluster_served.py --half tuning --quiet 10

bench/cluster_quality.py scores the method in memory. This runs the whole chain a resident goes through:
`POST /api/pins/` (gunicorn as `make serve`, one device token per pin, each text at a point drawn inside a QPV,
the texts of one need spread over the Métropole), the job worker's online placement, its automatic rebuild
(`CARTO_RECLUSTER_AFTER_SECONDS`, here `--quiet`), and every pin's cluster read back from `GET /api/pins/{id}/`.
It prints pairwise P / R / F1 / ARI after the online pass and after the rebuild, beside the same method run in
memory on the same texts in the same order in this run (the baseline): served and in-memory should agree.

Honest by construction: the server clusters with a whitening learnt on the *other* half only
(`fit_clustering --labelled` on a file holding that half, then an empty `recluster` so that new pins use it),
never the shipped one (learnt on both halves).

Database: CARTO_BENCH_DATABASE (default bench_served, never the dev database) on the project-local cluster;
its pins, clusters and fits are deleted first. Throttles and the hold for review of new devices are raised for
the server under test (every pin comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_served")

import django  # noqa: E402

django.setup()

from bench.cluster_quality import LABELLED, Bench, adjusted_rand, load, pair_counts, prf  # noqa: E402
from bench.drills.crash_replay import JobWorker, Server, _free_port, server_env  # noqa: E402
from bench.load import use_load_database  # noqa: E402

SEED = 5


def _half_file(half: str) -> Path:
    """The labelled set restricted to one half (what fit_clustering learns from)."""
    data = json.loads(LABELLED.read_text(encoding="utf-8"))
    kept = {
        "description": f"{half} half of {LABELLED.name}",
        "groups": [g for g in data["groups"] if g["half"] == half],
        "singletons": [s for s in data["singletons"] if s["half"] == half],
        "pairs": [],
    }
    path = Path(tempfile.mkstemp(prefix=f"labelled-{half}-", suffix=".json")[1])
    path.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    return path


def _fresh_state(fit_half: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, carto_pin, carto_cluster, carto_clusteringmodel,"
            " carto_clusteringfit, carto_clusterdecision, carto_clusteroverride, carto_writecounter CASCADE"
        )
    path = _half_file(fit_half)
    try:
        call_command("fit_clustering", labelled=path, verbosity=0)
    finally:
        path.unlink()
    call_command("recluster", verbosity=0)  # no pin: records the fit that new pins are placed with


def _qpv_points(count: int) -> list[tuple[float, float]]:
    """`count` points drawn inside the Métropole's QPV (PostGIS), a QPV at random each."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_Transform(ST_GeneratePoints(geometry, 1, %s + n), 4326))).geom AS p"
            " FROM generate_series(1, %s) n"
            " CROSS JOIN LATERAL (SELECT geometry FROM carto_territory WHERE kind = 'qpv' AND n > 0"
            "  ORDER BY md5(code || n::text) LIMIT 1) q) s",
            [SEED, count + 50],
        )
        return cursor.fetchall()[:count]  # a few draws come back empty


class Client:
    """One keep-alive connection, opened again when gunicorn closed it (a recycled worker); POSTs are replay-safe
    (client_uuid)."""

    def __init__(self, port: int) -> None:
        self.port, self.conn = port, http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, json.loads(response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _post(conn: Client, item, point: tuple[float, float]) -> int | None:
    body = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "need",
        "theme": item.theme,
        "text": item.text,
        "language": item.lang,
        "lon": round(point[0], 6),
        "lat": round(point[1], 6),
    }
    headers = {"Content-Type": "application/json", "X-Device-Token": uuid.uuid4().hex}
    status, payload = conn.request("POST", "/api/pins/", body=json.dumps(body), headers=headers)
    if status != 201:
        raise RuntimeError(f"POST /api/pins/ answered {status}: {payload}")
    return payload["id"] if payload["properties"]["status"] != "pending" else None


def _served_clusters(conn: Client, pins: list[int]) -> list[object]:
    """Each pin's cluster as the public API answers it (a pin alone has none: its own group)."""
    out = []
    for pin_id in pins:
        _, payload = conn.request("GET", f"/api/pins/{pin_id}/")
        cluster = payload["properties"].get("cluster")
        out.append(cluster["id"] if cluster else f"alone-{pin_id}")
    return out


def _wait(sql: str, done, timeout: float) -> None:
    from django.db import connection

    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            if done(cursor.fetchone()):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"still waiting after {timeout:.0f} s: {sql}")
        time.sleep(0.2)


def _line(name: str, pred, truth) -> str:
    p, r, f1 = prf(*pair_counts(pred, truth))
    return f"{name:44} {p:6.3f} {r:6.3f} {f1:6.3f} {adjusted_rand(pred, truth):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--half", choices=("checking", "tuning"), default="checking")
    parser.add_argument("--quiet", type=int, default=60, help="seconds of quiet before the worker rebuilds")
    args = parser.parse_args()
    fit_half = "tuning" if args.half == "checking" else "checking"

    use_load_database()
    from django.db import connection

    from carto.clustering.embeddings import PARAMS
    from carto.clustering.method import cluster_rows, strict_assign, themed

    _fresh_state(fit_half)
    bench = Bench(load())
    rows = list(bench.rows[args.half])
    random.Random(SEED).shuffle(rows)  # arrival order
    points = _qpv_points(len(rows))

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    media = Path(tempfile.mkdtemp(prefix="carto-served-media-"))
    port = _free_port()
    env = server_env(
        url,
        media,
        CARTO_BIND=f"127.0.0.1:{port}",
        CARTO_RECLUSTER_AFTER_SECONDS=str(args.quiet),
        CARTO_RECLUSTER_CRON="",
    )
    env.pop("DATABASE_REPLICA_URLS", None)
    server = Server(port, env)
    worker = JobWorker(env, open(media.with_suffix(".worker.log"), "ab"))  # noqa: SIM115
    server.start()
    worker.start()
    try:
        conn = Client(port)
        started = time.monotonic()
        posted = [(_post(conn, bench.items[i], point), i) for i, point in zip(rows, points, strict=True)]
        posted = [(pin_id, i) for pin_id, i in posted if pin_id is not None]  # none held for review here
        pins, truth = [p for p, _ in posted], [bench.items[i].need for _, i in posted]
        print(f"{len(pins)} pins of the {args.half} half posted in {time.monotonic() - started:.0f} s"
              f" (whitening learnt on the {fit_half} half)", flush=True)  # fmt: skip
        clustering = (
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'clustering' AND status <> 'failed'"
        )
        _wait(clustering, lambda row: row[0] == 0, 600)
        online = _served_clusters(conn, pins)
        _wait("SELECT version FROM carto_clusteringmodel", lambda row: row[0] >= 2, 600)
        _wait(
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'rebuild' AND status IN ('todo', 'doing')",
            lambda row: row[0] == 0, 600,
        )  # fmt: skip
        rebuilt_after = time.monotonic() - started
        rebuilt = _served_clusters(conn, pins)
    finally:
        worker.stop()
        server.stop()

    # Baseline, same run: the method in memory on the same texts, same order, the fit learnt on the same half.
    order = [i for _, i in posted]
    themes = [bench.items[i].theme for i in order]
    fit_rows = bench.rows[fit_half]
    first = themed(bench.production_units(order, fit_rows, centred=False), themes, PARAMS.theme_weight)
    centred = themed(bench.production_units(order, fit_rows), themes, PARAMS.theme_weight)
    print(f"{'':44} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6}")
    print(_line("served: online pass (GET /api/pins/{id}/)", online, truth))
    print(_line(f"served: after the worker's rebuild ({rebuilt_after:.0f} s)", rebuilt, truth))
    print(_line("in memory: online pass, same order", strict_assign(first, threshold=PARAMS.merge), truth))
    print(_line("in memory: rebuild (cluster_quality)", cluster_rows(centred, PARAMS), truth))
    f_served = prf(*pair_counts(rebuilt, truth))[2]
    f_memory = prf(*pair_counts(cluster_rows(centred, PARAMS), truth))[2]
    print(f"RESULT cluster_served {args.half} F1={f_served:.3f} memory_F1={f_memory:.3f}"
          f" ratio={f_served / f_memory:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
