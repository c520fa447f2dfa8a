"""Attack pass: connections that never finish their headers (slowloris) do not stop gunicorn.

gthread read headers with a blocking socket and no timeout: as many half-sent requests as threads held
every thread, and the site answered nobody, for as long as the connections stayed open.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREADS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (our own loopback server)
            return
        except OSError:
            time.sleep(0.1)  # polling for the start, not a timed assertion
    raise RuntimeError("gunicorn did not start")


def test_connections_that_never_finish_their_headers_do_not_stop_the_site():
    port = _free_port()
    env = {
        **os.environ,
        "CARTO_BIND": f"127.0.0.1:{port}",
        "CARTO_WORKERS": "1",
        "CARTO_THREADS": str(THREADS),
        "CARTO_HEADER_TIMEOUT": "2",
        "CARTO_ACCESS_LOG": "/dev/null",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
    process = subprocess.Popen(gunicorn, cwd=ROOT, env=env)  # noqa: S603 (our own interpreter)
    url = f"http://127.0.0.1:{port}/healthz"
    slow = []
    try:
        _wait_until_up(url, process)
        for _ in range(THREADS * 3):
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
            slow.append(conn)
        # Served once the half-sent requests have been cut off (2 s here); before, never.
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            assert response.status == 200
    finally:
        for conn in slow:
            conn.close()
        process.terminate()
        process.wait(timeout=30)
