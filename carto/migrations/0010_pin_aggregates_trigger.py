"""The map aggregates (carto_pin_cell, carto_pin_hex) kept by a trigger on carto_pin.

Every write path (a resident's pin, moderation, workflow, account deletion, retention, the admin, a SQL fix)
now moves the aggregates in the same transaction, and a pin insert pays no extra round trip nor planning:
PL/pgSQL caches the plans of its statements per connection. Measured by bench/tiles.py (insert with the
trigger / the same INSERT with the trigger disabled): 2.3x as a separate statement from Python, see README.

The constants are those of carto.stats.grid (WORLD_HALF, CELL_BITS, HEX_PER_CELL, AGGREGATE_MIN/MAX_ZOOM),
the visible statuses those of Pin.VISIBLE_STATUSES and the month the server's TIME_ZONE, written out here
as migrations must not follow later code changes: changing any of them needs a new migration (and
`manage.py rebuild_aggregates`). tests/api/test_tiles.py checks the trigger against the rebuild.
"""

import math

from django.conf import settings
from django.db import migrations

HALF = 20037508.342789244
BITS = 4
HEX = math.sqrt(2 / (3 * math.sqrt(3)))
MIN_ZOOM, MAX_ZOOM = 8, 12
VISIBLE = "{received,acknowledged,linked,resolved,declined}"

FUNCTION_SQL = f"""
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

    UPDATE carto_pin_hex h
    SET count = h.count - 1
    FROM (SELECT z, carto_hex_cell(v_x, v_y, 2 * {HALF} / 2 ^ (z + {BITS}) * {HEX}) AS k
          FROM generate_series({MIN_ZOOM}, {MAX_ZOOM}) AS z) s
    WHERE h.zoom = s.z AND h.i = s.k[1] AND h.j = s.k[2]
      AND h.theme_id = p_theme AND h.kind = p_kind AND h.month = v_month AND h.count > 0;
  END IF;
END
$$;

"""

TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION carto_pin_aggregates_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = ANY('{VISIBLE}'::text[]) THEN
    PERFORM carto_pin_aggregate(OLD.public_location, OLD.theme_id, OLD.kind, OLD.created_at, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = ANY('{VISIBLE}'::text[]) THEN
    PERFORM carto_pin_aggregate(NEW.public_location, NEW.theme_id, NEW.kind, NEW.created_at, 1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER carto_pin_aggregates AFTER INSERT OR DELETE ON carto_pin
FOR EACH ROW EXECUTE FUNCTION carto_pin_aggregates_trigger();

-- Updates only when what the aggregates count changes: visibility, place, theme, kind or month.
CREATE TRIGGER carto_pin_aggregates_update
AFTER UPDATE OF status, public_location, theme_id, kind, created_at ON carto_pin
FOR EACH ROW WHEN (
  (OLD.status = ANY('{VISIBLE}'::text[])) <> (NEW.status = ANY('{VISIBLE}'::text[]))
  OR (NEW.status = ANY('{VISIBLE}'::text[])
      AND (NOT ST_OrderingEquals(OLD.public_location, NEW.public_location) OR OLD.theme_id <> NEW.theme_id
           OR OLD.kind <> NEW.kind OR OLD.created_at <> NEW.created_at))
) EXECUTE FUNCTION carto_pin_aggregates_trigger();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS carto_pin_aggregates_update ON carto_pin;
DROP TRIGGER IF EXISTS carto_pin_aggregates ON carto_pin;
DROP FUNCTION IF EXISTS carto_pin_aggregates_trigger();
DROP FUNCTION IF EXISTS carto_pin_aggregate(geometry, bigint, text, timestamptz, integer);
"""


class Migration(migrations.Migration):
    dependencies = [("carto", "0009_pin_hex_aggregates")]

    operations = [migrations.RunSQL(FUNCTION_SQL + TRIGGER_SQL, reverse_sql=DROP_SQL)]
