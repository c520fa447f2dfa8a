"""Logging filters wired in settings.LOGGING."""

from __future__ import annotations

import logging

# Periodic housekeeping that runs every few seconds: its successful runs would be two log lines each time.
QUIET_TASKS = frozenset({"carto.recover_stalled"})


class QuietHousekeeping(logging.Filter):
    """Drops the job worker's INFO lines about QUIET_TASKS; their warnings and failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = getattr(record, "job", None)
        return not (
            record.levelno < logging.WARNING and isinstance(job, dict) and job.get("task_name") in QUIET_TASKS
        )
