"""The crash drill, reduced: 100 pins through two gunicorn workers that are SIGKILLed, a cut connection and a
SIGKILLed job worker.

Same code as bench/drills/crash_replay.py (the full 1,000-pin drill): a real gunicorn on loopback against the
test database, clients retrying the same client_uuid on connection errors and 5xx, one pin in three with a
photo. Chaos: five worker SIGKILLs at 10/25/40/60/80 % of the pins, one termination of the app's database
connections at 50 %. No whole-server kill (the full drill does it). ~35 s, ~50 s with set-up, on a busy machine.
"""

from __future__ import annotations

from django.db import connections

from bench.drills.crash_replay import Chaos, broken, run_drill
from tests.database import database_url

PINS = 100
# Kills keyed on progress, not on a timer: on a loaded 2-core machine a timer can kill each new worker before it
# serves anything, and the drill then measures the machine rather than the app.
REDUCED = Chaos(
    kill_every=None,
    worker_kills_at=(0.10, 0.25, 0.40, 0.60, 0.80),
    server_kills_at=(),
    db_terminations_at=(0.50,),
    job_worker_kills_at=(0.35,),
)


def test_no_pin_is_lost_doubled_or_broken_when_workers_and_connections_die(committed_db):
    db = connections["default"].settings_dict
    # Never the development database (tests/conftest.py's django_db_setup creates the test one).
    assert db["NAME"] == db["TEST"]["NAME"], db["NAME"]
    # The pins are emptied by committed_db afterwards: keep=True spares the drill its own ORM clean-up.
    result = run_drill(database_url(), pins=PINS, clients=8, chaos=REDUCED, keep=True, keep_media=False)

    summary = ", ".join(f"{k}={v}" for k, v in result.items())
    print(summary)  # the figures, with pytest -s
    assert result["sent"] == PINS, summary
    assert result["worker_kills"] >= 3, summary
    assert result["db_terminations"] == 1 and result["db_backends_terminated"] >= 1, summary
    assert result["in_database"] == PINS, summary
    assert result["lost"] == 0, summary
    assert result["duplicated"] == 0, summary
    assert result["missing_photo"] == 0, summary
    assert result["orphan_files"] == 0, summary  # after manage.py cleanup_media --grace-minutes=0
    # The job worker was SIGKILLed mid-batch: every pin still ends in exactly one cluster, counted once.
    assert result["job_worker_kills"] == 1, summary
    assert result["unclustered"] == 0, summary
    assert result["clustered_twice"] == 0, summary
    assert result["refused"] == 0, summary
    assert broken(result) == 0, summary
    # The chaos was felt: some pins needed the offline queue's retries.
    assert result["retried_pins"] >= 1, summary
