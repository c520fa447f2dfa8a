"""Mixed load on loopback: gunicorn (2 workers) on the generated 100 k pins, a bounded closed-loop client.

    .venv/bin/python bench/load.py                        # 60 s at concurrency 16, primary only
    .venv/bin/python bench/load.py --replica              # the same mix, then again with a streaming replica
    .venv/bin/python bench/load.py --duration 20 --concurrency 8

Mix (per request, seeded): 70 % vector tiles /api/tiles/pins/{z}/{x}/{y}.mvt at z10-z16 around pins of the
Métropole, 12 % bbox GeoJSON /api/pins/?bbox= (a 1280×800 px viewport at z15-z16), 10 % clusters
/api/pins/clusters/?bbox=&zoom= (viewport at z10-z14), 5 % similar /api/pins/similar/?lat=&lon=&theme=&text=,
3 % creates POST /api/pins/ (JSON, a new client_uuid each, X-Device-Token of one of 500 simulated devices).
A job worker runs beside gunicorn as under `make serve`; the time from each create's POST to its pin being in a
cluster is polled every 50 ms (target p95 <= 2 s; pins held for review are not clustered and not counted).
`--concurrency` threads each keep one keep-alive connection and send the next request as soon as the previous
one answers (no think time); the first `--warmup` seconds are not recorded. Every request is a different visitor:
no cookie is carried, so a create's read-your-writes cookie does not pin later reads to the primary (tested in
tests/ops/test_replica.py).

Server: config/gunicorn.py with CARTO_WORKERS=2 (threads, timeouts, max_requests as in production), the
server-side tile cache as in production (per-process, CARTO_TILE_CACHE_SECONDS default), access log off. The
hourly write throttles (CARTO_THROTTLE_DEVICE/IP/AREA_PER_HOUR) are raised to 1,000,000 for the server under
test: every create comes from 127.0.0.1 and one area, the production limits would refuse them after a few
seconds (and the hold for review of new devices' pins per network is raised likewise). Database: CARTO_BENCH_DATABASE (default bench_load, never the dev database) on the project-local
cluster, generated once by bench/generate_pins.py's SQL (100 k pins + 200 duplicate groups); the aggregates
(tile cells) are rebuilt before each run and the pins created by the run are deleted after it.

--replica: a hot standby of the cluster is made like tests/ops/test_replica.py (pg_basebackup -R into a
temporary folder, a second postgres on a free port, same shared_buffers) and a second gunicorn (2 workers) runs
with DATABASE_REPLICA_URLS pointing at it. The two servers are loaded in turn, never together: `--rounds`
(default 2) alternations A B A B of duration/rounds seconds each, each preceded by its warm-up, so that each
setup gets `--duration` measured seconds and the replica/primary ratios compare runs under the same (shared,
fluctuating) machine load. On one machine the replica shares the two cores with the primary: this measures the
router's overhead and correctness under load, not the capacity a second machine would add.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_load")

from bench.drills.crash_replay import JobWorker, Server, _free_port, server_env  # noqa: E402
from bench.generate_pins import GROUPS, ensure_pins  # noqa: E402
from bench.run_all import emit  # noqa: E402

SEED = 11
# A new pin is in its cluster within this long of its POST, under the mix (issue: "p95 <= 2 s").
CLUSTERED_P95_TARGET_MS = 2000
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
MIX = [("tile", 0.70), ("bbox", 0.12), ("clusters", 0.10), ("similar", 0.05), ("create", 0.03)]
DEVICES = [uuid.UUID(int=random.Random(SEED).getrandbits(128)).hex + f"{i:04d}" for i in range(500)]
VIEWPORT = (1280, 800)  # px
P95_TARGET_MS = 300  # issue 6, "Performance": mixed load p95 <= 300 ms, 0 errors


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return z, int((lon + 180) / 360 * n), int(y)


def viewport(lon: float, lat: float, zoom: int) -> str:
    """minlon,minlat,maxlon,maxlat of a VIEWPORT-sized map centred on (lon, lat) at `zoom`."""
    deg_per_px = 360 / (256 * 2**zoom)
    half_w = VIEWPORT[0] / 2 * deg_per_px
    half_h = VIEWPORT[1] / 2 * deg_per_px * math.cos(math.radians(lat))
    return f"{lon - half_w:.6f},{lat - half_h:.6f},{lon + half_w:.6f},{lat + half_h:.6f}"


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


class Workload:
    """Seeded requests of the mix, over points and themes taken from the bench database."""

    def __init__(self, points: list[tuple[float, float]], themes: list[str]) -> None:
        self.points, self.themes = points, themes
        self.texts = [text for _, _, wordings in GROUPS for text in wordings]
        self.kinds = [kind for kind, _ in MIX]
        self.weights = [weight for _, weight in MIX]

    def request(self, rng: random.Random) -> tuple[str, str, str, bytes | None, dict]:
        kind = rng.choices(self.kinds, self.weights)[0]
        lon, lat = rng.choice(self.points)
        if kind == "tile":
            z, x, y = tile_of(lon, lat, rng.randint(10, 16))
            return kind, "GET", f"/api/tiles/pins/{z}/{x}/{y}.mvt", None, {}
        if kind == "bbox":
            return kind, "GET", f"/api/pins/?bbox={viewport(lon, lat, rng.randint(15, 16))}", None, {}
        if kind == "clusters":
            zoom = rng.randint(10, 14)
            return kind, "GET", f"/api/pins/clusters/?bbox={viewport(lon, lat, zoom)}&zoom={zoom}", None, {}
        if kind == "similar":
            query = urlencode(
                {
                    "lat": f"{lat:.6f}",
                    "lon": f"{lon:.6f}",
                    "theme": rng.choice(self.themes),
                    "text": rng.choice(self.texts),
                }
            )
            return (
                kind,
                "GET",
                f"/api/pins/similar/?{query}",
                None,
                {},
            )
        body = {
            "client_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "kind": "need",
            "theme": "acceder-droits",
            "text": f"Pas d'endroit pour imprimer mes papiers CAF ({rng.randint(1, 10**6)})",
            "lat": round(lat + rng.uniform(-0.001, 0.001), 6),
            "lon": round(lon + rng.uniform(-0.001, 0.001), 6),
        }
        headers = {"Content-Type": "application/json", "X-Device-Token": rng.choice(DEVICES)}
        return kind, "POST", "/api/pins/", json.dumps(body).encode(), headers


class ClusterWatch(threading.Thread):
    """Time from each create's POST to its pin being in a cluster (the job worker's work), polled every 50 ms."""

    def __init__(self, db_url: str) -> None:
        super().__init__(daemon=True)
        self.db_url = db_url
        self.pending: dict[str, float] = {}  # client_uuid -> monotonic time the POST was sent
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.stop_at: float | None = None

    def expect(self, client_uuid: str, sent_at: float) -> None:
        with self.lock:
            self.pending[client_uuid] = sent_at

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while self.stop_at is None or (self.pending and time.monotonic() < self.stop_at):
                with self.lock:
                    keys = list(self.pending)
                if keys:
                    rows = conn.execute(
                        "SELECT p.client_uuid::text FROM carto_pin p JOIN carto_pincluster l ON l.pin_id = p.id"
                        " WHERE p.client_uuid = ANY(%s::uuid[])",
                        [keys],
                    ).fetchall()
                    now = time.monotonic()
                    with self.lock:
                        for (key,) in rows:
                            self.latencies.append((now - self.pending.pop(key)) * 1000)
                time.sleep(0.05)

    def finish(self, grace: float = 60.0) -> dict:
        """Let the worker catch up (at most `grace` s), then the figures; pins still waiting are counted."""
        self.stop_at = time.monotonic() + grace
        self.join()
        ordered = sorted(self.latencies)
        return {"clustered": len(ordered), "unclustered": len(self.pending),
                "p50": pct(ordered, 0.50), "p95": pct(ordered, 0.95), "max": ordered[-1] if ordered else 0.0}  # fmt: skip


class Client(threading.Thread):
    """One closed-loop client: one keep-alive connection, the next request as soon as the previous answers."""

    def __init__(
        self, index: int, port: int, workload: Workload, record_from: float, stop_at: float,
        watch: ClusterWatch | None = None,
    ) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.watch = watch
        self.rng = random.Random(SEED * 1000 + index)
        self.port, self.workload, self.record_from, self.stop_at = port, workload, record_from, stop_at
        self.samples: list[tuple[str, float, int | None]] = []  # (endpoint, ms, status or None)
        self.created: list[str] = []
        self.first_errors: list[str] = []
        self.reconnects = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        reused = False  # has this connection answered before?
        while (now := time.monotonic()) < self.stop_at:
            kind, method, path, body, headers = self.workload.request(self.rng)
            started = time.perf_counter()
            for attempt in (1, 2):
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                    status = response.status
                    reused = True
                    break
                except Exception as exc:  # noqa: BLE001 (counted as an error, the client goes on)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    status, payload = None, repr(exc).encode()
                    # A kept-alive connection the server closed in between (a worker recycled after
                    # max_requests) is retried once on a new one, as browsers do (RFC 9112 §9.3.1); creates
                    # are replay-safe (client_uuid). Anything else, or a second failure, is an error.
                    closed = isinstance(
                        exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                    )
                    if not (closed and reused and attempt == 1):
                        break
                    reused = False
                    self.reconnects += 1
            elapsed = (time.perf_counter() - started) * 1000
            if kind == "create" and status == 201:
                self.created.append(json.loads(body)["client_uuid"])
                # Pins held for review are not clustered until a moderator lets them through.
                if self.watch is not None and json.loads(payload)["properties"]["status"] != "pending":
                    self.watch.expect(json.loads(body)["client_uuid"], now)
            if now >= self.record_from:
                self.samples.append((kind, elapsed, status))
                if (status is None or status >= 400) and len(self.first_errors) < 3:
                    self.first_errors.append(f"{kind} {status} {payload[:160]!r}")
        conn.close()


def _cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run_load(
    port: int, workload: Workload, *, duration: float, warmup: float, concurrency: int,
    watch: ClusterWatch | None = None,
) -> dict:  # fmt: skip
    start = time.monotonic()
    clients = [
        Client(i, port, workload, record_from=start + warmup, stop_at=start + warmup + duration, watch=watch)
        for i in range(concurrency)
    ]
    load_before = os.getloadavg()[0]
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    for client in clients:
        client.start()
    time.sleep(warmup)
    busy0, total0 = _cpu_times()
    measured_from = time.monotonic()
    for client in clients:
        client.join()
    measured = time.monotonic() - measured_from
    busy1, total1 = _cpu_times()
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    return {
        "samples": [s for c in clients for s in c.samples],
        "seconds": measured,
        "created": [key for c in clients for key in c.created],
        "first_errors": [e for c in clients for e in c.first_errors],
        "reconnects": sum(c.reconnects for c in clients),
        "busy": busy1 - busy0,
        "total": total1 - total0,
        "client_cpu": own_cpu,
        "client_seconds": warmup + measured,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg()[0],
    }


def summarise(runs: list[dict]) -> dict:
    """Per-endpoint req/s, percentiles and errors over the runs of one setup, and the machine's load."""
    samples = [s for run in runs for s in run["samples"]]
    measured = sum(run["seconds"] for run in runs)
    by_kind: dict[str, list[tuple[float, int | None]]] = defaultdict(list)
    for kind, ms, status in samples:
        by_kind[kind].append((ms, status))
    rows = {}
    for kind, _ in [*MIX, ("all", 1.0)]:
        items = [(ms, st) for _, ms, st in samples] if kind == "all" else by_kind[kind]
        ordered = sorted(ms for ms, _ in items)
        errors = Counter(st for _, st in items if st is None or st >= 400)
        rows[kind] = {
            "requests": len(items),
            "rps": len(items) / measured,
            "p50": pct(ordered, 0.50),
            "p95": pct(ordered, 0.95),
            "p99": pct(ordered, 0.99),
            "errors": sum(errors.values()),
            "error_statuses": dict(errors),
        }
    return {
        "rows": rows,
        "seconds": measured,
        "first_errors": [e for run in runs for e in run["first_errors"]][:5],
        "reconnects": sum(run["reconnects"] for run in runs),
        "machine_busy": sum(run["busy"] for run in runs) / max(1.0, sum(run["total"] for run in runs)),
        "client_cpu_cores": sum(run["client_cpu"] for run in runs)
        / sum(run["client_seconds"] for run in runs),
        "loadavg": [f"{run['loadavg_before']:.1f}/{run['loadavg_after']:.1f}" for run in runs],
        "clustering": _clustering(runs),
    }


def _clustering(runs: list[dict]) -> dict:
    """POST → "cluster assigned" over the runs: the worst p95 and max, the sums of counts."""
    parts = [run["clustering"] for run in runs if "clustering" in run]
    return {
        "clustered": sum(p["clustered"] for p in parts),
        "unclustered": sum(p["unclustered"] for p in parts),
        "p50": max((p["p50"] for p in parts), default=0.0),
        "p95": max((p["p95"] for p in parts), default=0.0),
        "max": max((p["max"] for p in parts), default=0.0),
    }


def use_load_database() -> None:
    """Point Django at the bench database, creating, migrating and loading it the first time.

    Like generate_pins.use_bench_database, minus the serialisation of the whole database that
    setup_databases does by default (minutes of CPU once it holds 100 k pins)."""
    from django.core.management import call_command
    from django.db import connections
    from django.test.utils import setup_databases

    from carto.models import Theme

    connections["default"].settings_dict["TEST"]["NAME"] = os.environ["CARTO_BENCH_DATABASE"]
    setup_databases(verbosity=0, interactive=False, keepdb=True, serialized_aliases=set())
    if not Theme.objects.exists():
        call_command("load_all", verbosity=0)


def _as_cluster_owner(command: list[str]) -> list[str]:
    # postgres refuses to run as root: as root the project-local cluster belongs to the postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Replica:
    """A hot standby of the project-local cluster (pg_basebackup -R), as in tests/ops/test_replica.py."""

    def __init__(self, primary: dict) -> None:
        self.primary = primary
        self.folder = Path(tempfile.mkdtemp(prefix="carto-load-replica-"))
        self.port = _free_port()
        self.pg_ctl = [str(PGBIN / "pg_ctl"), "-D", str(self.folder)]

    def start(self, shared_buffers: str) -> float:
        started = time.perf_counter()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.folder.chmod(0o700)
        p = self.primary
        subprocess.run(
            _as_cluster_owner(
                [str(PGBIN / "pg_basebackup"), "-R", "-X", "stream", "-D", str(self.folder), "-h", p["HOST"],
                 "-p", str(p["PORT"]), "-U", p["USER"], "-c", "fast"]
            ),
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
            f" -c shared_buffers={shared_buffers}"
        )
        subprocess.run(
            _as_cluster_owner(
                [*self.pg_ctl, "-l", str(self.folder / "replica.log"), "-w", "-t", "120", "-o", options, "start"]
            ),
            check=True, capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - started

    def url(self) -> str:
        p = self.primary
        password = f":{p['PASSWORD']}" if p["PASSWORD"] else ""
        return f"postgis://{p['USER']}{password}@127.0.0.1:{self.port}/{p['NAME']}"

    def wait_caught_up(self, seconds: float = 120) -> None:
        import psycopg

        p = self.primary
        with (
            psycopg.connect(host=p["HOST"], port=p["PORT"], user=p["USER"], dbname=p["NAME"]) as primary,
            psycopg.connect(host="127.0.0.1", port=self.port, user=p["USER"], dbname=p["NAME"]) as standby,
        ):
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                row = standby.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
                )
                in_recovery, caught_up = row.fetchone()
                if in_recovery and caught_up:
                    return
                time.sleep(0.2)
        raise RuntimeError("the replica did not catch up")

    def replica_reads(self) -> int:
        """Statements that read carto_pin on the replica so far (pg_stat_user_tables on the standby)."""
        import psycopg

        p = self.primary
        with psycopg.connect(host="127.0.0.1", port=self.port, user=p["USER"], dbname=p["NAME"]) as standby:
            return standby.execute(
                "SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0) FROM pg_stat_user_tables"
                " WHERE relname = 'carto_pin'"
            ).fetchone()[0]

    def stop(self) -> None:
        subprocess.run(_as_cluster_owner([*self.pg_ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def print_table(title: str, result: dict, baseline: dict | None = None) -> None:
    print(f"\n{title}: {result['seconds']:.0f} s measured")
    header = "| endpoint | share | requests | req/s | p50 ms | p95 ms | p99 ms | errors |"
    if baseline:
        header += " req/s ÷ primary | p95 ÷ primary |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for kind, share in [*MIX, ("all", 1.0)]:
        row = result["rows"][kind]
        line = (
            f"| {kind} | {share:.0%} | {row['requests']} | {row['rps']:.1f} | {row['p50']:.1f} | {row['p95']:.1f}"
            f" | {row['p99']:.1f} | {row['errors']} |"
        )
        if baseline:
            base = baseline["rows"][kind]
            line += f" {row['rps'] / base['rps']:.2f} | {row['p95'] / base['p95']:.2f} |"
        print(line)
    errors = {k: r["error_statuses"] for k, r in result["rows"].items() if r["errors"] and k != "all"}
    if errors:
        print(f"errors by status: {errors}; first: {result['first_errors']}")
    print(
        f"load: machine CPU busy {result['machine_busy']:.0%} of 2 cores during the measure, load client"
        f" {result['client_cpu_cores']:.2f} core; loadavg(1 min) before/after each segment: {result['loadavg']}"
    )
    total = result["rows"]["all"]
    print(f"requests retried once on a kept-alive connection the server had closed: {result['reconnects']}")
    verdict = "PASS" if total["p95"] <= P95_TARGET_MS and total["errors"] == 0 else "FAIL"
    print(f"target p95 <= {P95_TARGET_MS} ms and 0 errors: {verdict}")
    clustering = result["clustering"]
    met = clustering["p95"] <= CLUSTERED_P95_TARGET_MS and clustering["unclustered"] == 0
    print(
        f"POST -> cluster assigned (job worker): {clustering['clustered']} pins, p50 {clustering['p50']:.0f} ms,"
        f" p95 {clustering['p95']:.0f} ms, max {clustering['max']:.0f} ms, {clustering['unclustered']} not"
        f" clustered 60 s after the load; target p95 <= {CLUSTERED_P95_TARGET_MS} ms: {'PASS' if met else 'FAIL'}"
    )
    emit("load", f"{title}: POST -> cluster assigned p95", clustering["p95"], None, None,
         f"<= {CLUSTERED_P95_TARGET_MS} ms", met)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds of load before measuring (default 5)"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--count", type=int, default=100_000, help="generated pins (default 100 000)")
    parser.add_argument("--replica", action="store_true", help="also the same mix with a streaming replica")
    parser.add_argument("--rounds", type=int, default=2, help="with --replica: A/B alternations (default 2)")
    args = parser.parse_args()

    use_load_database()
    ensure_pins(args.count, 200)

    from django.db import connection, transaction

    from carto.models import Pin
    from carto.stats.heatmaps import aggregates_rebuild

    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(public_location, 4326) AS g FROM carto_pin"
            " WHERE status <> 'pending' ORDER BY md5(id::text) LIMIT 5000) s"
        )
        points = cursor.fetchall()
        cursor.execute("SELECT slug FROM carto_theme ORDER BY slug")
        themes = [slug for (slug,) in cursor.fetchall()]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    workload = Workload(points, themes)

    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    primary_url = f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    media = Path(tempfile.mkdtemp(prefix="carto-load-media-"))
    env = server_env(primary_url, media)  # throttles raised: see the docstring
    env.pop("DATABASE_REPLICA_URLS", None)

    with transaction.atomic():
        cells = aggregates_rebuild()
    print(f"{Pin.objects.count()} pins, {cells} aggregate cells", flush=True)

    servers: dict[str, Server] = {}
    runs: dict[str, list[dict]] = {}
    # The job worker that clusters the created pins, as `make serve` runs it beside gunicorn.
    job_worker = JobWorker(env, open(media.with_suffix(".worker.log"), "ab"))  # noqa: SIM115
    job_worker.start()
    replica = None
    replica_scans = 0
    try:
        setups: dict[str, dict] = {"primary only": {}}
        if args.replica:
            replica = Replica(db)
            took = replica.start(shared_buffers)
            replica.wait_caught_up()
            reads_before = replica.replica_reads()
            print(f"replica: pg_basebackup + start in {took:.1f} s on :{replica.port}", flush=True)
            setups["primary + 1 streaming replica"] = {"DATABASE_REPLICA_URLS": replica.url()}
        for name, extra in setups.items():
            port = _free_port()
            servers[name] = Server(port, {**env, **extra, "CARTO_BIND": f"127.0.0.1:{port}"})
            servers[name].start()
            runs[name] = []
        rounds = args.rounds if args.replica else 1
        for index in range(rounds):
            for name, server in servers.items():
                print(
                    f"round {index + 1}/{rounds}, {name}: gunicorn 2 workers on :{server.port},"
                    f" {args.concurrency} clients, {args.warmup:.0f} s warm-up + {args.duration / rounds:.0f} s",
                    flush=True,
                )
                watch = ClusterWatch("postgresql://" + primary_url.split("://", 1)[1])
                watch.start()
                run = run_load(
                    server.port,
                    workload,
                    duration=args.duration / rounds,
                    warmup=args.warmup,
                    concurrency=args.concurrency,
                    watch=watch,
                )
                run["clustering"] = watch.finish()
                runs[name].append(run)
        if replica is not None:
            replica_scans = replica.replica_reads() - reads_before
    finally:
        for server in servers.values():
            if server.process is not None and server.process.poll() is None:
                server.stop()
            server.log.close()
            Path(server.log.name).unlink(missing_ok=True)
        if replica is not None:
            replica.stop()
        if job_worker.alive():
            job_worker.stop()
        job_worker.log.close()
        Path(job_worker.log.name).unlink(missing_ok=True)
        shutil.rmtree(media, ignore_errors=True)
        created = [key for setup in runs.values() for run in setup for key in run["created"]]
        deleted, _ = Pin.objects.filter(client_uuid__in=created).delete()
        print(f"{len(created)} pins created by the run, deleted again ({deleted} rows with their dependants)")

    baseline = None
    for name, setup in runs.items():
        summary = summarise(setup)
        print_table(name, summary, baseline)
        baseline = baseline or summary
    if replica is not None:
        print(f"carto_pin scans on the replica during the runs: {replica_scans}")


if __name__ == "__main__":
    main()
