"""Background jobs on the PostgreSQL job queue (Procrastinate): what a request must not wait for.

A job is deferred inside the transaction that makes it necessary (Procrastinate's Django connector
writes through Django's own connection), so a committed pin always has its clustering job and a
rolled-back pin never has one. The worker (`manage.py procrastinate worker`, started by `make run`,
`make serve` and docker-compose) runs them; every job here is idempotent, so a job retried after a
worker died half-way places its pin exactly once.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.types import JobToDefer

from carto.models import Pin
from carto.services.cluster_rebuild import clusters_rebuild
from carto.services.clustering import cluster_assign

logger = logging.getLogger(__name__)

CLUSTERING_QUEUE = "clustering"
MAINTENANCE_QUEUE = "maintenance"
REBUILD_QUEUE = "rebuild"
# A worker that missed 3 heartbeats (every 10 s by default) is dead: its jobs in "doing" go back to the queue.
STALLED_AFTER_SECONDS = 3 * settings.CARTO_WORKER_HEARTBEAT_SECONDS
# Transient failures (a cut database connection, a deadlock) are retried with a growing wait:
# 2 s, 4 s, 8 s... up to 8 attempts (about 8 min), then the job is "failed" and `recluster` repairs.
RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)


# One pin placed at a time per process: the worker runs two jobs at once (a rebuild beside the pins), and the
# process's cluster means (carto.clustering.embeddings.CACHE) are read and extended by each placement.
_PLACING = threading.Lock()


@app.task(name="carto.cluster_pin", queue=CLUSTERING_QUEUE, retry=RETRY)
def cluster_pin(pin_id: int) -> None:
    """Place one pin in its cluster of the same need (a pin deleted or hidden meanwhile is skipped), then ask
    for a rebuild once the map is quiet."""
    pin = Pin.objects.select_related("theme").filter(pk=pin_id).first()
    if pin is None:
        return
    with _PLACING:
        placed = cluster_assign(pin)
    if placed is not None:
        recluster_soon()


def _recluster(timestamp: int | None = None) -> None:
    """Rebuild every cluster (carto.services.cluster_rebuild): the nightly run (`timestamp`: its cron time) and
    the one recluster_soon() asks for."""
    logger.info("%s", clusters_rebuild())


# queueing_lock: at most one rebuild waits; pins clustered while it waits are in it when it runs.
recluster = app.task(name="carto.recluster", queue=REBUILD_QUEUE, queueing_lock="recluster")(_recluster)
if settings.CARTO_RECLUSTER_CRON:
    app.periodic(cron=settings.CARTO_RECLUSTER_CRON, periodic_id="recluster")(recluster)

# Pins (hidden ones too: close enough for a size limit), from the planner's estimate (free at any size); a table
# never analysed is counted.
_PINS_SQL = (
    "SELECT CASE WHEN reltuples < 0 THEN (SELECT count(*) FROM carto_pin) ELSE reltuples::bigint END"
    " FROM pg_class WHERE oid = 'carto_pin'::regclass"
)


def recluster_soon() -> bool:
    """Queue a rebuild CARTO_RECLUSTER_AFTER_SECONDS from now, unless one already waits, the setting is 0 or
    the map is larger than CARTO_RECLUSTER_AUTO_MAX_PINS (the nightly rebuild serves it). True if queued."""
    after = settings.CARTO_RECLUSTER_AFTER_SECONDS
    if after <= 0:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_PINS_SQL)
        (pins,) = cursor.fetchone()
    if pins > settings.CARTO_RECLUSTER_AUTO_MAX_PINS:
        return False
    try:
        # A savepoint inside a caller's transaction: a refused defer leaves that transaction usable.
        with transaction.atomic():
            recluster.configure(schedule_in={"seconds": after}).defer()
    except AlreadyEnqueued:
        return False
    return True


# Jobs "doing" whose last start is older than CARTO_JOB_LOST_SECONDS, whatever their worker's heartbeat: a
# worker that lost the database while it finished a job (a cut connection, a failover) beats on, and the job
# it could not mark done would stay "doing" for ever. Every job here is idempotent and takes well under that,
# but a rebuild (minutes at scale): a lost one is redone by the next pin or night.
_LOST_JOBS_SQL = """
SELECT j.id FROM procrastinate_jobs j
WHERE j.status = 'doing' AND j.queue_name <> %(rebuild)s AND NOT EXISTS (
  SELECT 1 FROM procrastinate_events e
  WHERE e.job_id = j.id AND e.type = 'started' AND e.at > now() - make_interval(secs => %(seconds)s))
"""


# Every 5 s: a killed worker's pins wait at most 3 heartbeats + 5 s, then are clustered by another worker.
@app.periodic(cron="* * * * * */5", periodic_id="recover_stalled")
@app.task(name="carto.recover_stalled", queue=MAINTENANCE_QUEUE, queueing_lock="recover_stalled",
          pass_context=True)  # fmt: skip
async def recover_stalled(context, timestamp: int) -> None:
    """Put back in the queue the jobs of workers that died (SIGKILL, OOM, lost machine) mid-job, and the jobs
    a live worker lost (_LOST_JOBS_SQL)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS):
        await manager.retry_job(job)
    lost = await context.app.connector.execute_query_all_async(
        _LOST_JOBS_SQL, seconds=settings.CARTO_JOB_LOST_SECONDS, rebuild=REBUILD_QUEUE
    )
    for row in lost:  # a job put back just above is "todo" now: retrying it again changes nothing
        await manager.retry_job_by_id_async(row["id"], retry_at=timezone.now())


def cluster_pin_job(pin_id: int) -> JobToDefer:
    """The row Task.defer would queue for cluster_pin(pin_id), from Procrastinate's own job model (queue,
    priority, locks as the task declares them), for a statement that queues it itself (carto.sql.pin_insert)."""
    job = cluster_pin.configure().make_new_job(pin_id=pin_id)
    return JobToDefer(
        queue_name=job.queue,
        task_name=job.task_name,
        priority=job.priority,
        lock=job.lock,
        queueing_lock=job.queueing_lock,
        args=job.task_kwargs,
        scheduled_at=job.scheduled_at,
    )
