"""carto_pin_preflight: a blurred public point stays in the pin's arrondissement and QPV (or in no QPV), not
only in its commune (carto/sql/carto_pin_preflight.sql)."""

from pathlib import Path

from django.db import migrations

PREFLIGHT_SQL = (Path(__file__).resolve().parents[1] / "sql" / "carto_pin_preflight.sql").read_text(encoding="utf-8")


class Migration(migrations.Migration):
    dependencies = [("carto", "0018_write_pin_preflight")]

    operations = [migrations.RunSQL(PREFLIGHT_SQL, migrations.RunSQL.noop)]
