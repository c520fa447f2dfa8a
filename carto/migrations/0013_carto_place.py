"""carto_place(point, tolerance): the one placement rule, as a named SQL function (carto/sql/carto_place.sql)."""

from pathlib import Path

from django.db import migrations

PLACE_SQL = (Path(__file__).resolve().parents[1] / "sql" / "carto_place.sql").read_text(encoding="utf-8")


class Migration(migrations.Migration):
    dependencies = [("carto", "0012_clustering_fit_decisions")]

    operations = [
        migrations.RunSQL(PLACE_SQL, "DROP FUNCTION carto_place(geometry, float8);"),
    ]
