"""gunicorn's logger, building only the access log's fields that config/gunicorn.py's format names.

gunicorn's own builds every field it knows for each request before formatting: the time with strftime, a
copy of every request and response header and of the whole WSGI environ (~60 entries) to format six. This
one gives the same line for our format (a test compares them); a format naming other fields needs them here.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.log_filters import path_for_logs


class AccessFieldsLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        path = environ.get("PATH_INFO")
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "m": environ.get("REQUEST_METHOD"),
            "U": path_for_logs(path) if path else path,
            "s": status,
            "b": sent is not None and str(sent) or "-",
            "M": request_time.seconds * 1000 + int(request_time.microseconds / 1000),
        }
