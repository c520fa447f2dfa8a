"""Crash drill: pins sent through crashing gunicorn workers and cut database connections, none lost or doubled.

    .venv/bin/python bench/drills/crash_replay.py [--pins 1000] [--clients 8]

Two gunicorn workers on loopback. Clients send pins (one in three with a photo), each with its own
client_uuid, and retry the same request on connection errors and 5xx with back-off, as the page's
offline queue does. Beside it runs the job worker that clusters the pins (`manage.py procrastinate worker`,
heartbeat every 2 s here instead of 10). Meanwhile a chaos loop SIGKILLs a random gunicorn worker every
0.5-2 s, once kills the whole server (master and workers; restarted like a supervisor would), twice
terminates the app's database connections and SIGKILLs the job worker at 30 % and 60 % of the pins
(restarted at once: its jobs in hand come back when it misses 3 heartbeats). At the end, once the queue is
empty: sent, in the database, lost, duplicated, missing photos, orphan photo files after `cleanup_media`,
client retries (max, p95), pins left unclustered and pins counted twice in their cluster. Writes into DATABASE_URL (default: the project database);
photos go to a temporary MEDIA_ROOT. Exit status 1 if anything was lost, doubled, broken or orphaned.

Reusable: `run_drill(db_url, pins=…, chaos=Chaos(…))` runs a drill and returns the figures (the reduced
drill of tests/ops/test_crash_drill_reduced.py uses it); `broken(result)` sums what must be 0.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
# Statuses of pins on the map (carto.models.Pin.VISIBLE_STATUSES): the ones that must be clustered.
VISIBLE_STATUSES = ("received", "acknowledged", "linked", "resolved", "declined")
APP_NAME = "carto-drill"  # application_name of the app's connections: the ones the drill terminates
# Belleville, Paris 20e: every pin falls near here (inside the Métropole).
CENTRE = (2.3790, 48.8700)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 80, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _multipart(fields: dict, photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass(frozen=True)
class Chaos:
    """What the chaos loop does. The defaults are the full drill's; fractions are of the pins sent so far."""

    # A random worker is SIGKILLed every kill_every[0]-kill_every[1] seconds (None: only the planned kills).
    kill_every: tuple[float, float] | None = (0.5, 2.0)
    # Extra worker SIGKILLs at these fractions of the pins sent (guarantees kills in a short drill).
    worker_kills_at: tuple[float, ...] = ()
    # The whole server (master and workers) is killed and restarted at these fractions.
    server_kills_at: tuple[float, ...] = (0.45,)
    # The app's database connections are terminated at these fractions.
    db_terminations_at: tuple[float, ...] = (0.25, 0.70)
    # The job worker is SIGKILLed (and restarted) at these fractions.
    job_worker_kills_at: tuple[float, ...] = (0.30, 0.60)


def server_env(database_url: str, media: Path, **extra: str) -> dict[str, str]:
    """The environment of a service under test (gunicorn 2 workers, its job worker): every client is 127.0.0.1 in
    one area, sending hundreds of pins a minute, so the hourly write throttles and the hold for review of new
    devices' pins per network are raised; no access log."""
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        CARTO_MEDIA_ROOT=str(media),
        CARTO_WORKERS="2",
        CARTO_ACCESS_LOG="/dev/null",
        CARTO_LOG_LEVEL="WARNING",
        CARTO_THROTTLE_DEVICE_PER_HOUR="1000000",
        CARTO_THROTTLE_IP_PER_HOUR="1000000",
        CARTO_THROTTLE_AREA_PER_HOUR="1000000",
        CARTO_PREMODERATION_NEW_DEVICE_PINS_PER_NETWORK="1000000",
        **extra,
    )


class JobWorker:
    """`manage.py procrastinate worker` (carto/tasks.py), restarted like a supervisor would if it dies."""

    def __init__(self, env: dict, log) -> None:
        self.env, self.log, self.process = env, log, None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


class Server:
    """gunicorn with config/gunicorn.py, in its own process group (so the whole server can be killed)."""

    def __init__(self, port: int, env: dict) -> None:
        self.port, self.env, self.process = port, env, None
        self.log = open(Path(env["CARTO_MEDIA_ROOT"]).with_suffix(".log"), "ab")  # noqa: SIM115

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-c", "config/gunicorn.py"],
            cwd=ROOT, env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start, see {self.log.name}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


class Drill:
    def __init__(
        self, db_url: str, *, pins: int = 1000, clients: int = 8, chaos: Chaos | None = Chaos()
    ) -> None:
        self.db_url, self.pins, self.clients, self.plan = db_url, pins, clients, chaos
        self.port = _free_port()
        self.media = Path(tempfile.mkdtemp(prefix="carto-drill-media-"))
        self.photo = _jpeg()
        self.attempts: dict[str, int] = {}
        self.with_photo: set[str] = set()
        self.failures: list[str] = []
        self.events = {
            "worker_kills": 0,
            "server_kills": 0,
            "db_terminations": 0,
            "db_backends_terminated": 0,
            "job_worker_kills": 0,
            "job_worker_restarts": 0,
        }
        self.done = threading.Event()
        env = server_env(
            # Django wants the postgis:// scheme; query parameters become connection options.
            f"postgis://{db_url.split('://', 1)[1]}{'&' if '?' in db_url else '?'}application_name={APP_NAME}",
            self.media,
            CARTO_BIND=f"127.0.0.1:{self.port}",
            # A killed job worker is found dead after 3 missed heartbeats: 6 s instead of 30 s.
            CARTO_WORKER_HEARTBEAT_SECONDS="2",
            # A job the worker lost with its cut connection is queued again after 20 s instead of 2 min.
            CARTO_JOB_LOST_SECONDS="20",
        )
        self.server = Server(self.port, env)
        self.job_worker = JobWorker(env, self.server.log)

    def send(self, index: int) -> None:
        key = str(uuid.uuid4())
        fields = {
            "client_uuid": key,
            "kind": "need",
            "theme": "acceder-droits",
            "text": f"Drill {index}: pas d'endroit pour imprimer mes papiers CAF, quartier {index % 37}",
            "lat": round(CENTRE[1] + random.uniform(-0.004, 0.004), 6),
            "lon": round(CENTRE[0] + random.uniform(-0.006, 0.006), 6),
        }
        if index % 3 == 0:
            body, content_type = _multipart(fields, self.photo)
            self.with_photo.add(key)
        else:
            body, content_type = json.dumps(fields).encode(), "application/json"
        headers = {"Content-Type": content_type, "X-Device-Token": uuid.uuid4().hex}
        attempt = 0
        while True:
            attempt += 1
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", "/api/pins/", body=body, headers=headers)
                response = conn.getresponse()
                status, payload = response.status, response.read()
                conn.close()
            except (OSError, http.client.HTTPException):
                # A worker killed mid-response leaves a truncated answer (IncompleteRead): retry the same key.
                status, payload = None, b""
            if status in (200, 201):
                break
            if status is not None and status < 500 and status != 429:
                self.failures.append(f"{status} {payload[:200]!r}")
                break
            # Exponential back-off with jitter, like the page's offline queue.
            time.sleep(min(2.0, 0.05 * 2 ** min(attempt, 6)) * random.uniform(0.5, 1.0))
        self.attempts[key] = attempt

    def chaos(self) -> None:
        """SIGKILL a worker every few seconds; kill the whole server and cut the app's connections as planned.

        Full drill: a worker every 0.5-2 s, the server once, the connections twice (see Chaos)."""
        chaos = self.plan
        plan = sorted(
            [(f, self.kill_worker) for f in chaos.worker_kills_at]
            + [(f, self.restart_server) for f in chaos.server_kills_at]
            + [(f, self.terminate_connections) for f in chaos.db_terminations_at]
            + [(f, self.kill_job_worker) for f in chaos.job_worker_kills_at],
            key=lambda step: step[0],
        )

        def next_kill() -> float:
            return time.monotonic() + random.uniform(*chaos.kill_every) if chaos.kill_every else float("inf")

        kill_at = next_kill()
        while not self.done.wait(0.05):
            # A planned step that could not act (no worker up at that instant) is tried again.
            if plan and len(self.attempts) >= plan[0][0] * self.pins and plan[0][1]() is not False:
                plan.pop(0)
            if time.monotonic() >= kill_at:
                kill_at = next_kill()
                self.kill_worker()
            self.supervise_job_worker()

    def supervise_job_worker(self) -> None:
        if not self.job_worker.alive():
            self.events["job_worker_restarts"] += 1
            self.job_worker.start()

    def kill_job_worker(self) -> None:
        # Mid-batch, so that jobs are in hand: the worker restarts at once, as under a supervisor.
        self.job_worker.kill()
        self.events["job_worker_kills"] += 1
        self.job_worker.start()

    def kill_worker(self) -> bool:
        workers = self.server.workers()
        if not workers:
            return False
        try:
            os.kill(random.choice(workers), signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.events["worker_kills"] += 1
        return True

    def restart_server(self) -> None:
        # Master and workers at once (a crash of the whole service), then a supervisor's restart.
        self.server.kill_all()
        self.events["server_kills"] += 1
        self.server.start()

    def terminate_connections(self) -> None:
        # Wait (briefly) for the app to hold connections, so that the termination cuts something.
        deadline = time.monotonic() + 3
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while True:
                cut = conn.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    [APP_NAME],
                ).fetchone()[0]
                if cut or time.monotonic() > deadline or self.done.is_set():
                    break
                time.sleep(0.05)
        self.events["db_terminations"] += 1
        self.events["db_backends_terminated"] += cut

    def run(self) -> dict:
        self.server.start()
        self.job_worker.start()
        started = time.monotonic()
        chaos = threading.Thread(target=self.chaos, daemon=True)
        if self.plan is not None:
            chaos.start()
        with ThreadPoolExecutor(self.clients) as pool:
            list(pool.map(self.send, range(self.pins)))
        self.done.set()
        if chaos.is_alive():
            chaos.join()
        elapsed = time.monotonic() - started
        self.server.stop()
        self.drain_queue()
        self.job_worker.stop()
        return self.report(elapsed)

    def drain_queue(self, timeout: float = 300.0) -> None:
        """Wait for the job worker to work off the queue (restarting it if it died)."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                left = conn.execute(
                    "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                    " AND queue_name = 'clustering'"
                ).fetchone()[0]
                if not left:
                    return
                self.supervise_job_worker()
                time.sleep(0.2)

    def forget(self) -> None:
        """Delete the drill's pins through the ORM (cascades), so the database is as before the drill."""
        keys = self.media.with_suffix(".keys")
        keys.write_text("\n".join(self.attempts))
        code = (
            "from pathlib import Path; from carto.models import Pin; "
            f"Pin.objects.filter(client_uuid__in=Path({str(keys)!r}).read_text().split()).delete()"
        )
        env = dict(self.server.env, DATABASE_URL="postgis://" + self.db_url.split("://", 1)[1])
        subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)
        keys.unlink()

    def report(self, elapsed: float) -> dict:
        keys = list(self.attempts)
        env = dict(self.server.env, DATABASE_URL="postgis://" + self.db_url.split("://", 1)[1])
        cleanup = subprocess.run(
            [sys.executable, "manage.py", "cleanup_media", "--grace-minutes=0"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute(
                "SELECT p.client_uuid::text, count(DISTINCT p.id), array_remove(array_agg(f.file), NULL)"
                " FROM carto_pin p LEFT JOIN carto_pinphoto f ON f.pin_id = p.id"
                " WHERE p.client_uuid = ANY(%s::uuid[]) GROUP BY p.client_uuid",
                [keys],
            ).fetchall()
            referenced = {name for (name,) in conn.execute("SELECT file FROM carto_pinphoto").fetchall()}
            # Every visible pin in exactly one cluster, counted once there (the clustering job is idempotent).
            unclustered, clustered_twice, jobs_failed = conn.execute(
                "WITH drill AS (SELECT id FROM carto_pin WHERE client_uuid = ANY(%s::uuid[])"
                "   AND status = ANY(%s)),"
                " counted AS (SELECT c.id, c.pin_count, count(l.pin_id) AS links FROM carto_cluster c"
                "   JOIN carto_pincluster l ON l.cluster_id = c.id GROUP BY c.id)"
                " SELECT (SELECT count(*) FROM drill d WHERE NOT EXISTS"
                "          (SELECT 1 FROM carto_pincluster l WHERE l.pin_id = d.id)),"
                "        (SELECT coalesce(sum(abs(pin_count - links)), 0) FROM counted),"
                "        (SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed')",
                [keys, list(VISIBLE_STATUSES)],
            ).fetchone()
        found = {key: (count, files) for key, count, files in rows}
        files_on_disk = {p.relative_to(self.media).as_posix() for p in (self.media / "photos").rglob("*")}
        missing_photo = sum(
            1
            for key in self.with_photo
            if key in found and not any(name in files_on_disk for name in found[key][1])
        )
        retries = sorted(a - 1 for a in self.attempts.values())
        result = {
            "sent": len(keys),
            "in_database": sum(count for count, _ in found.values()),
            "lost": sum(1 for key in keys if key not in found),
            "duplicated": sum(count - 1 for count, _ in found.values()),
            "refused": len(self.failures),
            "missing_photo": missing_photo,
            "orphan_files": len(files_on_disk - referenced),
            "retries_max": retries[-1] if retries else 0,
            "retries_p95": retries[int(0.95 * (len(retries) - 1))] if retries else 0,
            "retried_pins": sum(1 for r in retries if r),
            "unclustered": unclustered,
            "clustered_twice": int(clustered_twice),
            "jobs_failed": jobs_failed,
            "seconds": round(elapsed, 1),
            **self.events,
            "cleanup": cleanup.stdout.strip(),
        }
        if self.failures:
            result["first_refusal"] = self.failures[0]
        return result


BROKEN = ("lost", "duplicated", "missing_photo", "orphan_files", "refused", "unclustered", "clustered_twice")


def broken(result: dict) -> int:
    """Pins lost, doubled, with a missing photo, orphan files, refusals, unclustered or counted twice: all 0."""
    return sum(result[k] for k in BROKEN)


def postgresql_url(url: str) -> str:
    """A postgis:// or postgresql:// URL as a psycopg (postgresql://) URL."""
    return "postgresql://" + url.split("://", 1)[1]


def run_drill(
    db_url: str,
    *,
    pins: int = 1000,
    clients: int = 8,
    chaos: Chaos | None = Chaos(),
    keep: bool = False,
    keep_media: bool | None = None,
) -> dict:
    """Run one drill against db_url (a migrated database with the territories loaded) and return the figures.

    Unless keep, the drill's pins are deleted afterwards; unless keep_media (default: keep), so are the
    temporary media folder and, when nothing broke, gunicorn's log."""
    drill = Drill(postgresql_url(db_url), pins=pins, clients=clients, chaos=chaos)
    try:
        result = drill.run()
        if not keep:
            drill.forget()
    finally:
        if drill.server.process is not None and drill.server.process.poll() is None:
            drill.server.kill_all()
        if drill.job_worker.alive():
            drill.job_worker.kill()
        drill.server.log.close()
        if not (keep if keep_media is None else keep_media):
            shutil.rmtree(drill.media, ignore_errors=True)
    if not broken(result):
        Path(drill.server.log.name).unlink(missing_ok=True)
    else:
        result["server_log"] = drill.server.log.name
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-chaos", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the drill's pins in the database")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgis://carto@127.0.0.1:55432/carto")
    if urlsplit(postgresql_url(url)).scheme != "postgresql" or "://" not in url:
        raise SystemExit("DATABASE_URL must be a postgis:// or postgresql:// URL")
    chaos = None if args.no_chaos else Chaos()
    result = run_drill(url, pins=args.pins, clients=args.clients, chaos=chaos, keep=args.keep)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return result


if __name__ == "__main__":
    sys.exit(1 if broken(main()) else 0)
