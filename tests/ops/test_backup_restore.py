"""`make backup` then `make restore` gives back the same database and the same photos: 0 differences."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from PIL import Image
from psycopg import sql

from carto.services.pin_photos import pin_photo_add
from tests.database import database_url
from tests.factories import BONDY, VILLENEUVE_LA_GARENNE, make_pin
from tests.jobs import jobs_done

ROOT = Path(__file__).resolve().parents[2]


def _jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def _conninfo(dbname: str) -> str:
    s = connections["default"].settings_dict
    return psycopg.conninfo.make_conninfo(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=dbname
    )


def _table_counts(conn: psycopg.Connection) -> dict[str, int]:
    # The job queue's tables move every few seconds while a worker runs (its periodic recovery job comes
    # and goes): not data a restore must reproduce to the row.
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        " AND table_name NOT LIKE 'procrastinate%%'"
        " ORDER BY table_name"
    ).fetchall()
    return {
        name: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchone()[0]
        for (name,) in tables
    }


PINS_CHECKSUM = """
    SELECT md5(string_agg(
        concat_ws('|', id, client_uuid, text, status, encode(ST_AsEWKB(location), 'hex'),
                  encode(ST_AsEWKB(public_location), 'hex')),
        ',' ORDER BY id))
    FROM carto_pin
"""


def _geometry_differences(source: psycopg.Connection, restored: psycopg.Connection) -> dict[str, int]:
    """For every geometry column, the rows whose restored geometry is not ST_Equals to the original."""
    columns = source.execute(
        "SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE f_table_schema = 'public'"
    ).fetchall()
    differences = {}
    for table, column in columns:
        query = sql.SQL("SELECT id, ST_AsEWKB({col}) FROM {table} ORDER BY id").format(
            col=sql.Identifier(column), table=sql.Identifier(table)
        )
        rows = source.execute(query).fetchall()
        check = sql.SQL(
            "SELECT count(*) FROM {table} AS t JOIN unnest(%s::bigint[], %s::bytea[]) AS o(id, geom)"
            " ON o.id = t.id WHERE ST_Equals(t.{col}, ST_GeomFromEWKB(o.geom))"
            " OR (t.{col} IS NULL AND o.geom IS NULL)"
        ).format(col=sql.Identifier(column), table=sql.Identifier(table))
        equal = restored.execute(check, ([r[0] for r in rows], [r[1] for r in rows])).fetchone()[0]
        differences[f"{table}.{column}"] = len(rows) - equal
    return differences


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def restore_db():
    name = f"{connections['default'].settings_dict['NAME']}_restore"
    yield name
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_backup_restores_to_an_identical_database_and_media_folder(
    committed_db, worker, settings, tmp_path, restore_db
):
    settings.MEDIA_ROOT = tmp_path / "media"
    pins = [make_pin(), make_pin(*BONDY, kind="proposal"), make_pin(*VILLENEUVE_LA_GARENNE)]
    for pin, colour in zip(pins, ("red", "green"), strict=False):
        pin_photo_add(pin=pin, data=_jpeg(colour))
    jobs_done()  # the job worker clusters the pins before the backup, not during it
    s = connections["default"].settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        CARTO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
        BACKUP_DIR=str(tmp_path / "backups"),
        RESTORE_DB=restore_db,
        RESTORE_MEDIA_DIR=str(tmp_path / "restored-media"),
    )

    backup = subprocess.run(
        ["scripts/backup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert {p.name for p in folder.iterdir()} == {
        "db.dump",
        "media.tar.gz",
        "media.sha256",
        "SHA256SUMS",
        "MANIFEST",
    }
    subprocess.run(["scripts/restore.sh", str(folder)], cwd=ROOT, env=env, check=True, capture_output=True)

    with (
        psycopg.connect(_conninfo(s["NAME"])) as source,
        psycopg.connect(_conninfo(restore_db)) as restored,
    ):
        source_counts = _table_counts(source)
        assert source_counts["carto_pin"] == 3
        assert source_counts["carto_pinphoto"] == 2
        assert _table_counts(restored) == source_counts
        assert restored.execute(PINS_CHECKSUM).fetchone() == source.execute(PINS_CHECKSUM).fetchone()
        differences = _geometry_differences(source, restored)
        assert "carto_pin.location" in differences
        assert sum(differences.values()) == 0, differences

    original = _file_hashes(settings.MEDIA_ROOT)
    assert len(original) == 2
    assert _file_hashes(tmp_path / "restored-media") == original


def test_restore_refuses_to_overwrite_a_database_that_holds_tables(committed_db, tmp_path, restore_db):
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        CARTO_MEDIA_ROOT=str(tmp_path / "media"),
        BACKUP_DIR=str(tmp_path / "backups"),
        RESTORE_DB=restore_db,
        RESTORE_MEDIA_DIR=str(tmp_path / "restored-media"),
    )
    backup = subprocess.run(
        ["scripts/backup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    folder = backup.stdout.strip().splitlines()[-1]
    subprocess.run(["scripts/restore.sh", folder], cwd=ROOT, env=env, check=True, capture_output=True)

    again = subprocess.run(["scripts/restore.sh", folder], cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 1
    assert "set FORCE=1" in again.stderr
    forced = subprocess.run(
        ["scripts/restore.sh", folder], cwd=ROOT, env={**env, "FORCE": "1"}, capture_output=True, text=True
    )
    assert forced.returncode == 0, forced.stderr
