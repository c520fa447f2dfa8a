"""A new pin's INSERT and its clustering job, in one statement (the write of carto.services.pins.pin_create)."""

from __future__ import annotations

from django.db import connection
from procrastinate.types import JobToDefer
from psycopg.types.json import Jsonb

from carto.models import Pin

# Every column of the model, as Model.save(force_insert=True) writes them (pre_save fills created_at and
# updated_at; get_db_prep_save adapts each value), in a statement of our own so that the clustering job is
# queued in the same round trip: Procrastinate's own SQL function (procrastinate_defer_jobs_v1, what
# Task.defer runs), so its triggers write the job's "deferred" event and NOTIFY the workers as usual.
# Measured in bench/pins_write.py: the ORM INSERT and Task.defer were two round trips and ~0.4 ms of Python.
_FIELDS = Pin._meta.concrete_fields
_INSERT_SQL = """
WITH pin AS (INSERT INTO carto_pin ({columns}) VALUES ({values}) RETURNING id)
SELECT procrastinate_defer_jobs_v1(%s::procrastinate_job_to_defer_v1[]) FROM pin
""".format(  # noqa: S608 (the model's column names spliced; every value is bound)
    columns=", ".join(connection.ops.quote_name(field.column) for field in _FIELDS),
    values=", ".join("%s" for _ in _FIELDS),
)


def pin_insert(pin: Pin, *, job: JobToDefer) -> None:
    """INSERT `pin` (its id already reserved) and queue `job` in the same statement and transaction."""
    assert pin.pk is not None and pin.location.srid == pin.public_location.srid == Pin.location.field.srid
    params = [field.get_db_prep_save(field.pre_save(pin, True), connection) for field in _FIELDS]
    params.append([job._replace(args=Jsonb(job.args))])
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, params)
    pin._state.adding = False
    pin._state.db = connection.alias
