"""The job worker's log: housekeeping that runs every 5 s stays quiet unless it goes wrong."""

from __future__ import annotations

import logging

from config.log_filters import QuietHousekeeping


def job_record(task_name: str, level: int) -> logging.LogRecord:
    """A record shaped as procrastinate's worker logs it: the job's context in `record.job`."""
    record = logging.LogRecord("procrastinate.worker", level, __file__, 1, "Job ended", None, None)
    record.job = {"task_name": task_name, "id": 7}
    record.action = "job_success"
    return record


def test_the_console_drops_housekeeping_successes_but_keeps_its_failures_and_every_clustering_job():
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]  # not pytest's
    assert any(isinstance(f, QuietHousekeeping) for f in console.filters)
    assert not console.filter(job_record("carto.recover_stalled", logging.INFO))
    assert console.filter(job_record("carto.recover_stalled", logging.ERROR))
    assert console.filter(job_record("carto.cluster_pin", logging.INFO))
    plain = logging.LogRecord("carto", logging.INFO, __file__, 1, "hello", None, None)
    assert console.filter(plain)
