"""carto_pin_hex_total, and the square totals at a rim zoom too, kept by the same trigger.

- carto_pin_hex_total: the hexagons summed over theme, kind and month, one row per hexagon (as
  carto_pin_cell_total for the squares, migration 0011). An unfiltered whole-Métropole hexbin request at z12
  summed ~20x more rows from carto_pin_hex (one per theme × kind × month); it now reads one per hexagon.
- carto_pin_cell_total also at zoom TOTALS_RIM_ZOOM (14): map groups read the rim of a box's core there, so
  the pins they count one by one lie within a z14 cell (~100 m) of the box's edge, not a z12 cell (~400 m);
  and an index by row for the rings' north and south strips (wide in columns, thin in rows).

Same constants as migrations 0010 and 0011 (tests/carto/stats/test_aggregate_constants.py checks them against
carto.stats.grid); the rebuild (`manage.py rebuild_aggregates`) fills both from scratch.
"""

import math
from importlib import import_module

from django.conf import settings
from django.db import migrations, models

# Reversing this migration puts back 0011's function, which knows neither.
_PREVIOUS = import_module("carto.migrations.0011_pin_cell_totals").AGGREGATE_SQL
PREVIOUS_FUNCTION_SQL = _PREVIOUS[: _PREVIOUS.index("$$;") + 3]

HALF = 20037508.342789244
BITS = 4
HEX = math.sqrt(2 / (3 * math.sqrt(3)))
MIN_ZOOM, MAX_ZOOM = 8, 12
RIM_ZOOM = 14
VISIBLE = "{received,acknowledged,linked,resolved,declined}"
# The zooms of the totals, in order (rows are locked in zoom order: see below).
TOTAL_ZOOMS = f"ARRAY[{', '.join(str(z) for z in [*range(MIN_ZOOM, MAX_ZOOM + 1), RIM_ZOOM])}]"

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
    FROM unnest({TOTAL_ZOOMS}) AS z
    ORDER BY z
    ON CONFLICT (zoom, cx, cy) DO UPDATE
    SET count = t.count + 1, sum_x = t.sum_x + EXCLUDED.sum_x, sum_y = t.sum_y + EXCLUDED.sum_y;

    INSERT INTO carto_pin_hex AS h (zoom, i, j, theme_id, kind, month, count)
    SELECT z, k[1], k[2], p_theme, p_kind, v_month, 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    ORDER BY z
    ON CONFLICT (zoom, i, j, theme_id, kind, month) DO UPDATE SET count = h.count + 1;

    INSERT INTO carto_pin_hex_total AS h (zoom, i, j, count)
    SELECT z, k[1], k[2], 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    ORDER BY z
    ON CONFLICT (zoom, i, j) DO UPDATE SET count = h.count + 1;
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
    FROM unnest({TOTAL_ZOOMS}) AS z
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

    UPDATE carto_pin_hex_total h
    SET count = h.count - 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    WHERE h.zoom = s.z AND h.i = s.k[1] AND h.j = s.k[2] AND h.count > 0;
  END IF;
END
$$;
"""

# The new rows from what is stored: the hexagons' totals from carto_pin_hex, the rim zoom's from the pins.
BACKFILL_SQL = f"""
INSERT INTO carto_pin_hex_total (zoom, i, j, count)
SELECT zoom, i, j, sum(count) FROM carto_pin_hex GROUP BY 1, 2, 3 HAVING sum(count) > 0;

INSERT INTO carto_pin_cell_total (zoom, cx, cy, count, sum_x, sum_y)
SELECT {RIM_ZOOM}, floor((x + {HALF}) / (2 * {HALF} / 2 ^ ({RIM_ZOOM} + {BITS})))::int,
       floor(({HALF} - y) / (2 * {HALF} / 2 ^ ({RIM_ZOOM} + {BITS})))::int, count(*), sum(x), sum(y)
FROM (SELECT ST_X(g) AS x, ST_Y(g) AS y
      FROM (SELECT ST_Transform(public_location, 3857) AS g FROM carto_pin
            WHERE status = ANY('{VISIBLE}'::text[]) OFFSET 0) a) p
GROUP BY 1, 2, 3;
"""


class Migration(migrations.Migration):
    dependencies = [("carto", "0016_similar_candidates")]

    operations = [
        migrations.CreateModel(
            name="PinHexTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("zoom", models.PositiveSmallIntegerField()),
                ("i", models.IntegerField()),
                ("j", models.IntegerField()),
                ("count", models.IntegerField(default=0)),
            ],
            options={
                "db_table": "carto_pin_hex_total",
                "constraints": [
                    models.UniqueConstraint(fields=("zoom", "i", "j"), name="pin_hex_total_key"),
                    models.CheckConstraint(
                        condition=models.Q(("count__gte", 0)), name="pin_hex_total_count_nonnegative"
                    ),
                ],
            },
        ),
        migrations.RunSQL(
            "ALTER TABLE carto_pin_hex_total SET (fillfactor = 70)", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.AddIndex(
            model_name="pincelltotal",
            index=models.Index(fields=["zoom", "cy", "cx"], name="pin_cell_total_zoom_row"),
        ),
        migrations.RunSQL(
            AGGREGATE_SQL + BACKFILL_SQL,
            reverse_sql=PREVIOUS_FUNCTION_SQL + f"DELETE FROM carto_pin_cell_total WHERE zoom = {RIM_ZOOM};",
        ),
    ]
