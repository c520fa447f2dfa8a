"""The test database, for the subprocesses tests start (job worker, gunicorn, backup scripts)."""

from __future__ import annotations

from django.db import connection


def database_url() -> str:
    """The test database as a DATABASE_URL (postgis://)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgis://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
