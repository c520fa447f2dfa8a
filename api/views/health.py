"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from carto.services.job_queue import queue_backlog


def healthz(request) -> JsonResponse:
    """The process is up (no database access)."""
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    """The database answers, every migration is applied and the job queue is being worked off."""
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001 (any database failure means "not ready")
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "database": True, "pending_migrations": len(pending)}, status=503
        )
    backlog = queue_backlog()
    ready = backlog.state == "ok"
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "database": True, "queue": backlog.as_dict()},
        status=200 if ready else 503,
    )
