"""gunicorn settings for `make serve` and production: everything from the environment.

Sync workers with a few threads each: carto's requests are short database reads and writes, and a thread
waiting on PostgreSQL releases the GIL. The master restarts a worker that is killed or stuck.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise SystemExit(f"{name} must be an integer, got {value!r}") from exc


bind = os.environ.get("CARTO_BIND", "127.0.0.1:8000")
workers = _int("CARTO_WORKERS", 2)
threads = _int("CARTO_THREADS", 4)
# gthread with a deadline on reading the headers (config/gunicorn_worker.py, CARTO_HEADER_TIMEOUT, 10 s):
# without it, as many slow connections as threads stopped the site.
worker_class = "config.gunicorn_worker.HeaderDeadlineWorker" if threads > 1 else "sync"
# A request stuck longer than this is killed with its worker (the statement timeout, 15 s, fires first).
timeout = _int("CARTO_TIMEOUT", 30)
# On SIGHUP/SIGTERM, requests in flight get this long to finish before their worker is stopped.
graceful_timeout = _int("CARTO_GRACEFUL_TIMEOUT", 20)
# Load Django once in the master, then fork: a replaced worker (crash, SIGKILL, max_requests) serves at once
# instead of importing Django and GDAL again (~2 s). No connection is opened at import time, so none is
# shared by the forked workers. Code changes then need a restart rather than SIGHUP.
preload_app = os.environ.get("CARTO_PRELOAD", "true").lower() in ("1", "true", "yes")
keepalive = _int("CARTO_KEEPALIVE", 5)
# Recycle workers now and then (memory growth in GDAL/Pillow); the jitter keeps them from restarting together.
# Not too often: a recycle drops the worker's tile cache and loaded models, and resets the keep-alive
# connections it held (bench/load.py: 2,000 meant a restart every ~20 s per worker at 100 req/s, and errors).
max_requests = _int("CARTO_MAX_REQUESTS", 20000)
max_requests_jitter = _int("CARTO_MAX_REQUESTS_JITTER", 2000)
# Refuse oversized headers early; bodies are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE in Django.
limit_request_line = 8190
accesslog = os.environ.get("CARTO_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("CARTO_LOG_LEVEL", "info").lower()
# The access log must not hold coordinates from query strings (bbox, similar): path only.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
# Builds only the fields this format names (gunicorn's own copies every header and the environ per request).
logger_class = "config.gunicorn_logger.AccessFieldsLogger"
# Trust X-Forwarded-* only from the reverse proxy in front (nginx on the same host by default).
forwarded_allow_ips = os.environ.get("CARTO_FORWARDED_ALLOW_IPS", "127.0.0.1")
