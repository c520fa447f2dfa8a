"""carto_blur: a blurred public point stays in the pin's arrondissement and QPV (or in no QPV), not only in its
commune (carto/sql/carto_blur.sql); carto_pin_preflight calls it. Pins placed before are repaired by
`manage.py replace_pins` (carto.services.placement.pins_replace), which load_all runs."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parents[1] / "sql"
BLUR_SQL = (SQL / "carto_blur.sql").read_text(encoding="utf-8")
PREFLIGHT_SQL = (SQL / "carto_pin_preflight.sql").read_text(encoding="utf-8")


class Migration(migrations.Migration):
    dependencies = [("carto", "0018_write_pin_preflight")]

    operations = [
        migrations.RunSQL(BLUR_SQL, "DROP FUNCTION carto_blur(geometry, float8[], float8[], bigint, bigint, bigint, integer);"),
        migrations.RunSQL(PREFLIGHT_SQL, migrations.RunSQL.noop),
    ]
