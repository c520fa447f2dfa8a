"""Crash drill: pins sent through crashing gunicorn workers and cut database connections, none lost or doubled.

    .venv/bin/python bench/drills/crash_replay.py [--pins 1000] [--clients 8]

Two gunicorn workers on loopback. Clients send pins (one in three with a photo), each with its own
client_uuid, and retry the same request on connection errors and 5xx with back-off, as the page's
offline queue does. Meanwhile a chaos loop SIGKILLs a random worker every 0.5-2 s, once kills the whole
server (master and workers; restarted like a supervisor would) and twice terminates the app's database
connections. At the end: sent, in the database, lost, duplicated, missing photos, orphan photo files
after `cleanup_media`, client retries (max, p95). Writes into DATABASE_URL (default: the project database);
photos go to a temporary MEDIA_ROOT. Exit status 1 if anything was lost, doubled, broken or orphaned.
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
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
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
    def __init__(self, args, db_url: str) -> None:
        self.args, self.db_url = args, db_url
        self.port = _free_port()
        self.media = Path(tempfile.mkdtemp(prefix="carto-drill-media-"))
        self.photo = _jpeg()
        self.attempts: dict[str, int] = {}
        self.with_photo: set[str] = set()
        self.failures: list[str] = []
        self.events = {"worker_kills": 0, "server_kills": 0, "db_terminations": 0}
        self.done = threading.Event()
        env = dict(
            os.environ,
            # Django wants the postgis:// scheme; query parameters become connection options.
            DATABASE_URL=f"postgis://{db_url.split('://', 1)[1]}{'&' if '?' in db_url else '?'}"
            f"application_name={APP_NAME}",
            CARTO_MEDIA_ROOT=str(self.media),
            CARTO_BIND=f"127.0.0.1:{self.port}",
            CARTO_WORKERS="2",
            CARTO_ACCESS_LOG="/dev/null",
            CARTO_LOG_LEVEL="WARNING",
            # The drill sends 1,000 pins from one address in a minute: the hourly throttles would refuse them.
            CARTO_THROTTLE_DEVICE_PER_HOUR="1000000",
            CARTO_THROTTLE_IP_PER_HOUR="1000000",
            CARTO_THROTTLE_AREA_PER_HOUR="1000000",
        )
        self.server = Server(self.port, env)

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
            except OSError:
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
        """SIGKILL a worker every 0.5-2 s; kill the whole server once and cut the app's connections twice."""
        plan = [
            (0.25, self.terminate_connections),
            (0.45, self.restart_server),
            (0.70, self.terminate_connections),
        ]
        next_kill = time.monotonic() + random.uniform(0.5, 2.0)
        while not self.done.wait(0.05):
            if plan and len(self.attempts) >= plan[0][0] * self.args.pins:
                plan.pop(0)[1]()
            if time.monotonic() >= next_kill:
                next_kill = time.monotonic() + random.uniform(0.5, 2.0)
                workers = self.server.workers()
                if workers:
                    try:
                        os.kill(random.choice(workers), signal.SIGKILL)
                        self.events["worker_kills"] += 1
                    except ProcessLookupError:
                        pass

    def restart_server(self) -> None:
        # Master and workers at once (a crash of the whole service), then a supervisor's restart.
        self.server.kill_all()
        self.events["server_kills"] += 1
        self.server.start()

    def terminate_connections(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                [APP_NAME],
            )
        self.events["db_terminations"] += 1

    def run(self) -> dict:
        self.server.start()
        started = time.monotonic()
        chaos = threading.Thread(target=self.chaos, daemon=True)
        if not self.args.no_chaos:
            chaos.start()
        with ThreadPoolExecutor(self.args.clients) as pool:
            list(pool.map(self.send, range(self.args.pins)))
        self.done.set()
        if chaos.is_alive():
            chaos.join()
        elapsed = time.monotonic() - started
        self.server.stop()
        return self.report(elapsed)

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
            "seconds": round(elapsed, 1),
            **self.events,
            "cleanup": cleanup.stdout.strip(),
        }
        if self.failures:
            result["first_refusal"] = self.failures[0]
        return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pins", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-chaos", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the drill's pins in the database")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgis://carto@127.0.0.1:55432/carto")
    url = "postgresql://" + url.split("://", 1)[1]
    if urlsplit(url).scheme != "postgresql":
        raise SystemExit("DATABASE_URL must be a postgis:// or postgresql:// URL")
    drill = Drill(args, url)
    result = drill.run()
    if not args.keep:
        drill.forget()
        shutil.rmtree(drill.media, ignore_errors=True)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    return result


if __name__ == "__main__":
    outcome = main()
    broken = outcome["lost"] + outcome["duplicated"] + outcome["missing_photo"] + outcome["orphan_files"]
    sys.exit(1 if broken or outcome["refused"] else 0)
