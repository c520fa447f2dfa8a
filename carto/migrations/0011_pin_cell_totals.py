"""carto_pin_cell_total: the square cells summed over theme, kind and month, kept by the same trigger.

The default map (no filter) is the most requested view. Read from carto_pin_cell, an unfiltered z12 screen
of map clusters summed 13–19 k rows (a cell holds one row per theme × kind × month, ~4 pins a row at
z10–z12 with 100 k pins); the totals hold one row per cell. Low-zoom tiles and map clusters without a filter
read them. Same constants as migration 0010; the rebuild fills them from carto_pin_cell.
"""

import math
from importlib import import_module

from django.conf import settings
from django.db import migrations, models

# Reversing this migration puts back 0010's function, which does not know the totals table.
PREVIOUS_FUNCTION_SQL = import_module("carto.migrations.0010_pin_aggregates_trigger").FUNCTION_SQL

HALF = 20037508.342789244
BITS = 4
HEX = math.sqrt(2 / (3 * math.sqrt(3)))
MIN_ZOOM, MAX_ZOOM = 8, 12

AGGREGATE_SQL = f"""
CREATE OR REPLACE FUNCTION carto_pin_aggregate(
  location geometry, p_theme bigint, p_kind text, created timestamptz, delta integer
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  m geometry := ST_Transform(location, 3857);
  v_x double precision := ST_X(m);
  v_y double precision := ST_Y(m);
  v_month date := date_trunc('month', created AT TIME ZONE '{settings.TIME_ZONE}')::date;
BEGIN
  IF delta > 0 THEN
    -- Rows in zoom order: two concurrent inserts lock shared rows in the same order.
    INSERT INTO carto_pin_cell AS c (zoom, cx, cy, theme_id, kind, month, count, sum_x, sum_y)
    SELECT z, floor((v_x + {HALF}) / (2 * {HALF} / 2 ^ (z + {BITS})))::int,
           floor(({HALF} - v_y) / (2 * {HALF} / 2 ^ (z + {BITS})))::int, p_theme, p_kind, v_month, 1, v_x, v_y
    FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z
    ORDER BY z
    ON CONFLICT (zoom, cx, cy, theme_id, kind, month) DO UPDATE
    SET count = c.count + 1, sum_x = c.sum_x + EXCLUDED.sum_x, sum_y = c.sum_y + EXCLUDED.sum_y;

    INSERT INTO carto_pin_cell_total AS t (zoom, cx, cy, count, sum_x, sum_y)
    SELECT z, floor((v_x + {HALF}) / (2 * {HALF} / 2 ^ (z + {BITS})))::int,
           floor(({HALF} - v_y) / (2 * {HALF} / 2 ^ (z + {BITS})))::int, 1, v_x, v_y
    FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z
    ORDER BY z
    ON CONFLICT (zoom, cx, cy) DO UPDATE
    SET count = t.count + 1, sum_x = t.sum_x + EXCLUDED.sum_x, sum_y = t.sum_y + EXCLUDED.sum_y;

    INSERT INTO carto_pin_hex AS h (zoom, i, j, theme_id, kind, month, count)
    SELECT z, k[1], k[2], p_theme, p_kind, v_month, 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    ORDER BY z
    ON CONFLICT (zoom, i, j, theme_id, kind, month) DO UPDATE SET count = h.count + 1;
  ELSE
    -- Only existing rows: an upsert would check count >= 0 on the proposed row first.
    UPDATE carto_pin_cell c
    SET count = c.count - 1, sum_x = c.sum_x - v_x, sum_y = c.sum_y - v_y
    FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z
    WHERE c.zoom = z
      AND c.cx = floor((v_x + {HALF}) / (2 * {HALF} / 2 ^ (z + {BITS})))::int
      AND c.cy = floor(({HALF} - v_y) / (2 * {HALF} / 2 ^ (z + {BITS})))::int
      AND c.theme_id = p_theme AND c.kind = p_kind AND c.month = v_month AND c.count > 0;

    UPDATE carto_pin_cell_total t
    SET count = t.count - 1, sum_x = t.sum_x - v_x, sum_y = t.sum_y - v_y
    FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z
    WHERE t.zoom = z
      AND t.cx = floor((v_x + {HALF}) / (2 * {HALF} / 2 ^ (z + {BITS})))::int
      AND t.cy = floor(({HALF} - v_y) / (2 * {HALF} / 2 ^ (z + {BITS})))::int
      AND t.count > 0;

    UPDATE carto_pin_hex h
    SET count = h.count - 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    WHERE h.zoom = s.z AND h.i = s.k[1] AND h.j = s.k[2]
      AND h.theme_id = p_theme AND h.kind = p_kind AND h.month = v_month AND h.count > 0;
  END IF;
END
$$;

INSERT INTO carto_pin_cell_total (zoom, cx, cy, count, sum_x, sum_y)
SELECT zoom, cx, cy, sum(count), sum(sum_x), sum(sum_y) FROM carto_pin_cell GROUP BY 1, 2, 3;
"""


class Migration(migrations.Migration):
    dependencies = [("carto", "0010_pin_aggregates_trigger")]

    operations = [
        migrations.CreateModel(
            name="PinCellTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zoom", models.PositiveSmallIntegerField()),
                ("cx", models.IntegerField()),
                ("cy", models.IntegerField()),
                ("count", models.IntegerField(default=0)),
                ("sum_x", models.FloatField(default=0)),
                ("sum_y", models.FloatField(default=0)),
            ],
            options={
                "db_table": "carto_pin_cell_total",
                "constraints": [
                    models.UniqueConstraint(fields=("zoom", "cx", "cy"), name="pin_cell_total_key"),
                    models.CheckConstraint(
                        condition=models.Q(("count__gte", 0)), name="pin_cell_total_count_nonnegative"
                    ),
                ],
            },
        ),
        migrations.RunSQL("ALTER TABLE carto_pin_cell_total SET (fillfactor = 70)", reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(AGGREGATE_SQL, reverse_sql=PREVIOUS_FUNCTION_SQL),
    ]
