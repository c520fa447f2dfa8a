"""The job queue in tests: wait for the real worker (committed tests), or run the queued jobs in place."""

from __future__ import annotations

import json
import time

from django.db import connection

# Workers started by tests never rebuild on their own (a rebuild would move the clusters of the test that runs
# then): the tests of the rebuild ask for one.
WORKER_ENV = {"CARTO_LOG_LEVEL": "WARNING", "CARTO_RECLUSTER_AFTER_SECONDS": "0", "CARTO_RECLUSTER_CRON": ""}


def jobs_done(timeout: float = 30.0) -> None:
    """Wait until the worker has run every due job (committed tests: the queue is a real table)."""
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                " AND queue_name <> 'maintenance'"
            )
            (left,) = cursor.fetchone()
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{left} job(s) still queued after {timeout} s: is the worker running?")
        time.sleep(0.1)


def run_queued_jobs() -> int:
    """Run the queued jobs in this process and transaction (tests inside a rolled-back transaction, where
    the worker cannot see the rows): each job's task function, then its row goes, as the worker's would."""
    from procrastinate.contrib.django import app

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND queue_name <> 'maintenance'"
            " RETURNING id, task_name, args"
        )
        jobs = sorted(cursor.fetchall())
    for _id, task_name, args in jobs:
        app.tasks[task_name](**(json.loads(args) if isinstance(args, str) else args))
    return len(jobs)
