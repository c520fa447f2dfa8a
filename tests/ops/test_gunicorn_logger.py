"""config/gunicorn_logger.py: the access log line is gunicorn's own for our format, built from fewer fields."""

from __future__ import annotations

import datetime as dt
import runpy
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger, SafeAtoms

from config.gunicorn_logger import AccessFieldsLogger


def test_the_access_line_is_the_one_gunicorn_would_write_without_the_query_string():
    settings = runpy.run_path("config/gunicorn.py")
    assert settings["logger_class"] == "config.gunicorn_logger.AccessFieldsLogger"
    cfg = Config()
    cfg.set("accesslog", "-")
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/pins/clusters/",
        "QUERY_STRING": "bbox=2.2,48.75,2.6,49.0&zoom=10",  # coordinates: never logged
        "RAW_URI": "/api/pins/clusters/?bbox=2.2,48.75,2.6,49.0&zoom=10",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[("Content-Type", "application/json")])
    request = SimpleNamespace(headers=[("HOST", "localhost")])
    took = dt.timedelta(microseconds=3456)

    def line(logger_class) -> str:
        atoms = logger_class(cfg).atoms(response, request, environ, took)
        return settings["access_log_format"] % SafeAtoms(atoms)

    assert line(AccessFieldsLogger) == line(Logger) == '127.0.0.1 "GET /api/pins/clusters/" 200 1234 3ms'
