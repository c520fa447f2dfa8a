"""Logging filters wired in settings.LOGGING."""

from __future__ import annotations

import logging
import re

# The account export's one-time link carries its token in the path (api.urls): it works only for its signed-in
# owner, once, for minutes, but a log outlives all three, so no log line keeps it.
_EXPORT_TOKEN = re.compile(r"^(/api/account/export/)[^/]+")


def path_for_logs(path: str) -> str:
    """A request path as the logs may hold it: an account export link's token replaced by "<token>"."""
    return _EXPORT_TOKEN.sub(r"\1<token>", path)


# Periodic housekeeping that runs every few seconds: its successful runs would be two log lines each time.
QUIET_TASKS = frozenset({"carto.recover_stalled"})


class QuietHousekeeping(logging.Filter):
    """Drops the job worker's INFO lines about QUIET_TASKS; their warnings and failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = getattr(record, "job", None)
        return not (
            record.levelno < logging.WARNING and isinstance(job, dict) and job.get("task_name") in QUIET_TASKS
        )
