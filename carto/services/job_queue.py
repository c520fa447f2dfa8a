"""The job queue's backlog, as the readiness probe and operators see it (Procrastinate's own tables)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection

from carto.tasks import STALLED_AFTER_SECONDS

# One statement: queued jobs that are due (a rebuild planned for later is not backlog), running jobs, failed
# ones, the age of the oldest due job (from its "deferred" event: immediate jobs have no scheduled_at) and the
# workers with a recent heartbeat.
_BACKLOG_SQL = """
SELECT
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND coalesce(scheduled_at, now()) <= now()),
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'),
  (SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'),
  (SELECT extract(epoch FROM now() - min(coalesce(j.scheduled_at, e.at)))
     FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
    WHERE j.status = 'todo' AND coalesce(j.scheduled_at, e.at) <= now()),
  (SELECT count(*) FROM procrastinate_workers
    WHERE last_heartbeat > now() - make_interval(secs => %s))
"""


@dataclass(frozen=True)
class Backlog:
    queued: int
    running: int
    failed: int
    oldest_queued_seconds: float
    workers: int
    state: str  # "ok", or "stuck": the oldest due job waited longer than CARTO_QUEUE_STUCK_SECONDS

    def as_dict(self) -> dict:
        return asdict(self)


def queue_backlog() -> Backlog:
    """What waits for the worker now; "stuck" when nothing has taken the oldest due job for too long."""
    with connection.cursor() as cursor:
        cursor.execute(_BACKLOG_SQL, [STALLED_AFTER_SECONDS])
        queued, running, failed, oldest, workers = cursor.fetchone()
    oldest = round(float(oldest or 0.0), 1)
    stuck = queued > 0 and oldest > settings.CARTO_QUEUE_STUCK_SECONDS
    return Backlog(queued, running, failed, oldest, workers, "stuck" if stuck else "ok")
