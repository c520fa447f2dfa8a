"""gunicorn's threaded worker with a deadline on reading a request's headers.

gthread reads a request's headers on one of its few threads (CARTO_THREADS) with a blocking socket and no
timeout: 8 connections that send half a request line and wait held every thread of `make serve`, and the
site answered nobody (slowloris). A watchdog thread per worker shuts down a connection whose headers have
not arrived within CARTO_HEADER_TIMEOUT seconds; the blocked read returns and the thread is free again.
A buffering reverse proxy in front (nginx) protects the same way and also covers slow bodies.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

from gunicorn.workers.gthread import ThreadWorker

HEADER_TIMEOUT = float(os.environ.get("CARTO_HEADER_TIMEOUT", "") or 10)


class HeaderDeadlineWorker(ThreadWorker):
    def init_process(self):
        self._reading: dict[object, float] = {}  # connection -> deadline (monotonic)
        self._reading_lock = threading.Lock()
        threading.Thread(target=self._watch, name="header-deadline", daemon=True).start()
        super().init_process()  # runs the worker's loop

    def handle(self, conn):
        with self._reading_lock:
            self._reading[conn] = time.monotonic() + HEADER_TIMEOUT
        try:
            return super().handle(conn)
        finally:
            with self._reading_lock:
                self._reading.pop(conn, None)

    def handle_request(self, req, conn):
        # The headers are in: the request itself runs under the usual limits (statement timeout, timeout).
        with self._reading_lock:
            self._reading.pop(conn, None)
        return super().handle_request(req, conn)

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, HEADER_TIMEOUT / 2))
            now = time.monotonic()
            with self._reading_lock:
                late = [conn for conn, deadline in self._reading.items() if deadline < now]
                for conn in late:
                    del self._reading[conn]
            for conn in late:
                with contextlib.suppress(OSError):  # already closed by the client
                    conn.sock.shutdown(socket.SHUT_RDWR)
