"""Hexagon aggregates beside the square cells, and cheaper upserts on both aggregate tables.

- carto_pin_hex: visible pins per hexagon of a Web Mercator hex grid per zoom (GET /api/stats/hexbins/).
  Hexagons are PostGIS's own (ST_Hexagon / ST_HexagonGrid: flat-topped, odd columns shifted up), so
  ST_Hexagon(size, i, j) draws exactly the cell carto_hex_cell() puts a point in.
- carto_hex_cell(x, y, size): the (i, j) of the hexagon holding a point, by cube rounding of the point's
  fractional axial coordinates (PL/pgSQL: ~15x faster per call than the same as a multi-step SQL function,
  which PostgreSQL cannot inline); used on insert and by the rebuild.
- Both tables are derived data written on every pin insert (one row per stored zoom), so they carry no
  foreign key (a referential-integrity check per row and per insert, for rows rebuilt from carto_pin anyway), no
  index beyond the unique key (whose (zoom, x, y) prefix serves the reads), and a fillfactor leaving room
  for HOT updates: incrementing a count then rewrites no index.
"""

from django.db import migrations, models

HEX_CELL_SQL = """
CREATE OR REPLACE FUNCTION carto_hex_cell(x double precision, y double precision, size double precision)
RETURNS int[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  fq double precision := x / (1.5 * size);                      -- fractional axial coordinates
  fr double precision := y / (sqrt(3) * size) - x / (3 * size);
  fs double precision := -fq - fr;
  q double precision := round(fq);
  r double precision := round(fr);
  s double precision := round(fs);
BEGIN
  -- Cube rounding: the coordinate that moved most is recomputed from the other two.
  IF abs(q - fq) > abs(r - fr) AND abs(q - fq) > abs(s - fs) THEN
    q := -r - s;
  ELSIF abs(r - fr) > abs(s - fs) THEN
    r := -q - s;
  END IF;
  -- Axial (q, r) to PostGIS's offset columns and rows (odd columns shifted up).
  RETURN ARRAY[q::int, (r + floor(q / 2))::int];
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("carto", "0008_pin_visible_public_location")]

    operations = [
        migrations.RunSQL(HEX_CELL_SQL, reverse_sql="DROP FUNCTION IF EXISTS carto_hex_cell"),
        migrations.RemoveIndex(model_name="pincell", name="pin_cell_zoom_xy"),
        migrations.AlterField(
            model_name="pincell",
            name="theme",
            field=models.ForeignKey(
                db_constraint=False, on_delete=models.deletion.DO_NOTHING, related_name="+", to="carto.theme"
            ),
        ),
        migrations.CreateModel(
            name="PinHex",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zoom", models.PositiveSmallIntegerField()),
                ("i", models.IntegerField()),
                ("j", models.IntegerField()),
                ("kind", models.CharField(max_length=16)),
                ("month", models.DateField()),
                ("count", models.IntegerField(default=0)),
                (
                    "theme",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        related_name="+",
                        to="carto.theme",
                    ),
                ),
            ],
            options={
                "db_table": "carto_pin_hex",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("zoom", "i", "j", "theme", "kind", "month"), name="pin_hex_key"
                    ),
                    models.CheckConstraint(condition=models.Q(("count__gte", 0)), name="pin_hex_count_nonnegative"),
                ],
            },
        ),
        migrations.RunSQL(
            "ALTER TABLE carto_pin_cell SET (fillfactor = 70); ALTER TABLE carto_pin_hex SET (fillfactor = 70)",
            reverse_sql="ALTER TABLE carto_pin_cell RESET (fillfactor)",
        ),
    ]
