"""Map clusters: our endpoint against supercluster (npm) behind a small Node server, on the same pins.

    .venv/bin/python bench/clusters_supercluster.py                 # the bench database, 100 000 pins
    .venv/bin/python bench/clusters_supercluster.py --samples 50    # fewer screen-sized boxes

Issue target: clusters endpoint p50 <= 3x supercluster on the same points, radius and extent; counts exact.

The visible pins' public locations are exported in WGS84 to a temporary JSON file and indexed by
bench/supercluster/server.js (supercluster behind Node's bare `http`; `npm install` is run here the first
time). The requests are those of bench/map_clusters.py: zooms 8-12, the whole-Métropole box and
1280 x 800 px boxes centred on sampled pins.

Same parameters on both sides: our clusters are grid cells 64 px wide on 256 px tiles (GROUP_BITS = 2 in
carto/stats/map_groups.py); supercluster gets `extent: 256, radius: 32`, so a cluster gathers the points within
32 px of its seed, a 64 px wide neighbourhood. Its `maxZoom` is 16 (its default; >= 12 so every requested
zoom is clustered; it only changes the index build time, printed for information).

Transport: the Node server is always reached over loopback HTTP (one keep-alive http.client connection).
Our endpoint is timed three ways: through a gunicorn answering from its in-memory index (config/gunicorn.py,
1 worker, over the same kind of keep-alive connection), the like-for-like figure that the target rows use;
through a second gunicorn with CARTO_MAP_INDEX=off (the SQL path, as before the index, and the fallback while an
index is rebuilt), in the same loop; and in-process through Django's test Client (no socket, as
bench/map_clusters.py), for information. Each answer's X-Map-Groups header says which path answered (printed as
"answered from memory"); timing starts once both index holders answer from memory. The index's build time and
arrays (built in-process the same way as in a worker) and the gunicorn worker's resident memory before and
after its build are printed. Two floors are printed too: gunicorn answering /healthz (HTTP + Django
middleware, no SQL) and Node answering an empty box (HTTP alone).

Exactness: every request's `total` (all three) must equal a bare count of the visible pins in the box
(BOX_COUNT_SQL, the box rule: Web Mercator x/y inside the box's Web Mercator rectangle),
or the bench exits non-zero. Supercluster returns the clusters whose centre lies in the box, so its sum of
counts is not expected to match; its mean relative difference is printed for information.
Database: CARTO_BENCH_DATABASE (default bench_pins), loaded by bench/generate_pins.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CARTO_BENCH_DATABASE", "bench_pins")

from bench.drills.crash_replay import Server, _free_port  # noqa: E402
from bench.generate_pins import ensure_pins, open_bare_cursor, use_bench_database  # noqa: E402
from bench.map_clusters import METROPOLE, SCREEN, aggregates_ensure, cluster_requests, pct  # noqa: E402
from bench.run_all import emit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bench" / "supercluster"
# Our cells: 256 px tiles cut in 2^GROUP_BITS = 4 columns, 64 px each; supercluster: 32 px radius.
EXTENT, RADIUS, MAX_ZOOM = 256, 32, 16
EMPTY_BOX = (-30.0, 40.0, -29.9, 40.1)  # mid-Atlantic: no pin, measures the HTTP hop alone
TARGET = 3.0

_EXPORT_SQL = """
SELECT ST_X(g), ST_Y(g) FROM (
  SELECT ST_Transform(public_location, 4326) AS g FROM carto_pin WHERE status = ANY(%s)
) a
"""
MEMORY_WAIT_SECONDS = 180  # the first index build at 1 M pins takes a few seconds (more on a loaded machine)


def npm_install() -> None:
    """Install supercluster next to server.js the first time."""
    if not (NODE_DIR / "node_modules" / "supercluster").is_dir():
        npm = shutil.which("npm") or sys.exit("npm is required (Node 20)")
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True)


def export_points(cursor, statuses: list[str], path: Path) -> int:
    """Write the visible pins' public locations as a JSON array of [lon, lat]; return how many."""
    points = cursor.execute(_EXPORT_SQL, (statuses,)).fetchall()
    path.write_text(json.dumps(points))
    return len(points)


def start_node(points: Path) -> tuple[subprocess.Popen, int, str]:
    """Start server.js on a free port; return the process, its port and its "indexed …" line."""
    node = subprocess.Popen(
        ["node", "server.js", str(points), "--radius", str(RADIUS), "--extent", str(EXTENT),
         "--max-zoom", str(MAX_ZOOM)],
        cwd=NODE_DIR, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    indexed = ""
    for line in node.stdout:
        if line.startswith("indexed"):
            indexed = line.strip()
        elif line.startswith("ready"):
            return node, int(line.split()[1]), indexed
    raise SystemExit(f"the Node server stopped before it was ready (exit code {node.wait()})")


def timed_get(conn: http.client.HTTPConnection, path: str, params: dict) -> tuple[float, dict, str | None]:
    """One GET on a keep-alive connection: elapsed ms (request to parsed body), the JSON and the path that
    answered (X-Map-Groups: memory or sql; None from Node).

    A connection the server closed while idle (gunicorn's keep-alive timeout, passed during a slow bare
    count at 1 M pins) is opened again and the request timed anew.
    """
    for attempt in (1, 2):
        started = time.perf_counter()
        try:
            conn.request("GET", f"{path}?{urlencode(params)}")
            response = conn.getresponse()
            body = response.read()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt == 2:
                raise
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status == 200, body[:500]
    return elapsed, json.loads(body), response.getheader("X-Map-Groups")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()

    use_bench_database()
    ensure_pins(args.count, args.groups)

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from carto.models import Pin
    from carto.stats.map_groups import BOX_COUNT_SQL, box_count_params
    from carto.stats.map_index_holder import map_index_loaded

    statuses = list(Pin.VISIBLE_STATUSES)
    visible = aggregates_ensure()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    bare_cursor = open_bare_cursor()
    requests = cluster_requests(args.samples)

    npm_install()
    folder = Path(tempfile.mkdtemp(prefix="carto-supercluster-"))
    exported = export_points(bare_cursor, statuses, folder / "points.json")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""

    def server(name: str, index_mode: str) -> tuple[Server, int]:
        port = _free_port()
        return Server(
            port,
            dict(
                os.environ,
                DATABASE_URL=f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                CARTO_MEDIA_ROOT=str(folder / name),
                CARTO_BIND=f"127.0.0.1:{port}",
                CARTO_WORKERS="1",  # one sequential client; threads > 1 keeps gthread (keep-alive)
                CARTO_ACCESS_LOG="/dev/null",
                CARTO_LOG_LEVEL="WARNING",
                CARTO_MAP_INDEX=index_mode,
            ),
        ), port

    # Ours twice: the in-memory index (the figure), and SQL only (CARTO_MAP_INDEX=off), the path that
    # answers while an index is rebuilt and for the filters the index does not hold.
    (gunicorn, port), (gunicorn_sql, port_sql) = server("media", "background"), server("media-sql", "off")
    node = None
    try:
        started = time.perf_counter()
        node, node_port, indexed = start_node(folder / "points.json")
        print(
            f"{Pin.objects.count()} pins, {visible} visible, {exported} exported; supercluster: {indexed}"
            f" ({time.perf_counter() - started:.1f} s from start to ready)"
        )
        gunicorn.start()
        gunicorn_sql.start()
        to_node = http.client.HTTPConnection("127.0.0.1", node_port)
        to_gunicorn = http.client.HTTPConnection("127.0.0.1", port)
        to_gunicorn_sql = http.client.HTTPConnection("127.0.0.1", port_sql)

        def query(box, zoom) -> dict:
            return {"bbox": ",".join(map(str, box)), "zoom": zoom}

        def in_process(box, zoom) -> tuple[float, dict, str | None]:
            started = time.perf_counter()
            response = client.get("/api/pins/clusters/", query(box, zoom))
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.content
            return elapsed, response.json(), response["X-Map-Groups"]

        def ours(box, zoom) -> tuple[float, dict, str | None]:
            return timed_get(to_gunicorn, "/api/pins/clusters/", query(box, zoom))

        def ours_sql(box, zoom) -> tuple[float, dict, str | None]:
            return timed_get(to_gunicorn_sql, "/api/pins/clusters/", query(box, zoom))

        def theirs(box, zoom) -> tuple[float, dict, str | None]:
            return timed_get(to_node, "/clusters", query(box, zoom))

        def bare_count(box) -> int:
            return bare_cursor.execute(BOX_COUNT_SQL, box_count_params(box)).fetchone()[0]

        # The worker's memory before its index (Django loaded, one SQL answer given), then the first
        # requests: each answered in SQL until the background build is done.
        timed_get(to_gunicorn, "/healthz", {})
        (worker,) = gunicorn.workers()
        ours(*requests[0])
        rss_before = rss_mb(worker)
        deadline, first_memory = time.monotonic() + MEMORY_WAIT_SECONDS, None
        while first_memory is None and time.monotonic() < deadline:
            answered = [ours(*requests[0])[2], in_process(*requests[0])[2]]
            if answered == ["memory", "memory"]:
                first_memory = time.monotonic()
            else:
                time.sleep(0.2)
        if first_memory is None:
            raise SystemExit(f"no answer from memory within {MEMORY_WAIT_SECONDS} s (see the gunicorn log)")
        rss_after = rss_mb(worker)
        index = map_index_loaded()
        print(
            f"in-memory index (in-process build, as a worker's): {index.count} pins, built in"
            f" {index.build_seconds:.2f} s, arrays {index.nbytes / 1e6:.0f} MB; gunicorn worker RSS"
            f" {rss_before:.0f} MB -> {rss_after:.0f} MB with its index"
        )

        for box, zoom in requests[:10]:  # warm every path
            ours(box, zoom), ours_sql(box, zoom), theirs(box, zoom), in_process(box, zoom)

        times = {"ours": [], "sql": [], "theirs": [], "local": []}
        paths, mismatches, differences = {"ours": [], "sql": [], "local": []}, 0, []
        for box, zoom in requests:
            answers = {
                "ours": ours(box, zoom),
                "sql": ours_sql(box, zoom),
                "theirs": theirs(box, zoom),
                "local": in_process(box, zoom),
            }
            for name, (elapsed, _, path) in answers.items():
                times[name].append(elapsed)
                if name in paths:
                    paths[name].append(path)
            expected = bare_count(box)
            mismatches += any(answers[n][1]["total"] != expected for n in ("ours", "sql", "local"))
            if expected:
                differences.append(abs(answers["theirs"][1]["total"] - expected) / expected)
        metro = [
            (ours(METROPOLE, z)[0], ours_sql(METROPOLE, z)[0], theirs(METROPOLE, z)[0]) for z in range(8, 13)
        ]
        hop = [theirs(EMPTY_BOX, 10)[0] for _ in range(50)]
        floor = [timed_get(to_gunicorn, "/healthz", {})[0] for _ in range(50)]
    except BaseException:
        print(f"points and gunicorn logs kept in {folder}", file=sys.stderr)
        raise
    finally:
        if node is not None:
            node.terminate()
            node.wait(timeout=10)
        for server_ in (gunicorn, gunicorn_sql):
            if server_.process is not None:
                server_.stop()
    shutil.rmtree(folder)

    print(
        f"{len(requests)} requests, zooms 8-12, screen {SCREEN[0]}x{SCREEN[1]} px; totals differing from the"
        f" bare SQL count: {mismatches}"
    )
    print(
        "answered from memory: "
        + ", ".join(f"{name} {path.count('memory')}/{len(path)}" for name, path in paths.items())
    )
    print(
        f"supercluster sum of counts vs the bare count: mean |difference| {statistics.mean(differences):.1%}"
        " (clusters whose centre is in the box; informational)"
    )
    base50, base95 = statistics.median(times["theirs"]), pct(times["theirs"], 0.95)
    p50, p95 = statistics.median(times["ours"]), pct(times["ours"], 0.95)
    print(f"{'':58} {'endpoint ms':>12} {'supercluster ms':>16} {'ratio':>7}")
    metro_ours, metro_sql, metro_theirs = (statistics.median(side) for side in zip(*metro, strict=True))
    for label, new, old in (
        ("clusters z8-z12 p50 (gunicorn / node, both HTTP), memory", p50, base50),
        ("clusters z8-z12 p95 (gunicorn / node, both HTTP), memory", p95, base95),
        ("clusters z8-z12 p50, SQL only (CARTO_MAP_INDEX=off)", statistics.median(times["sql"]), base50),
        ("clusters z8-z12 p95, SQL only (CARTO_MAP_INDEX=off)", pct(times["sql"], 0.95), base95),
        ("clusters z8-z12 p50 (in-process Client / node HTTP)", statistics.median(times["local"]), base50),
        ("whole Métropole box z8-z12 p50, memory", metro_ours, metro_theirs),
        ("whole Métropole box z8-z12 p50, SQL only", metro_sql, metro_theirs),
    ):
        print(f"{label:58} {new:12.2f} {old:16.2f} {new / old:7.2f}")
    print(f"{'floors: gunicorn /healthz (no SQL) / node empty box, p50':58} {statistics.median(floor):12.2f}"
          f" {statistics.median(hop):16.2f}")  # fmt: skip

    name = "clusters_supercluster"
    emit(name, "clusters p50 (endpoint / supercluster node)", p50, base50, p50 / base50, f"<= {TARGET:g}x",
         p50 / base50 <= TARGET)  # fmt: skip
    emit(name, "clusters p95 (endpoint / supercluster node)", p95, base95, p95 / base95, "(none set)", None)
    if mismatches:
        raise SystemExit("cluster totals differ from the bare SQL count")


if __name__ == "__main__":
    main()
