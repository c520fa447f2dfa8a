"""carto_writes_count and carto_pin_preflight: the throttle counters and a pin's preflight as PL/pgSQL
functions (carto/sql/carto_writes_count.sql, carto/sql/carto_pin_preflight.sql), planned once per session
instead of on every POST /api/pins/ (bench/pins_write.py)."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parents[1] / "sql"
COUNT_SQL = (SQL / "carto_writes_count.sql").read_text(encoding="utf-8")
PREFLIGHT_SQL = (SQL / "carto_pin_preflight.sql").read_text(encoding="utf-8")


class Migration(migrations.Migration):
    dependencies = [("carto", "0017_hex_totals")]

    operations = [
        migrations.RunSQL(COUNT_SQL, "DROP FUNCTION carto_writes_count(varchar[], timestamptz, timestamptz);"),
        migrations.RunSQL(
            PREFLIGHT_SQL,
            "DROP FUNCTION carto_pin_preflight(geometry, float8, uuid, bigint, varchar, bigint, integer, varchar,"
            " text, float8[], float8[], varchar[], varchar, varchar, timestamptz, interval, timestamptz,"
            " timestamptz);",
        ),
    ]
