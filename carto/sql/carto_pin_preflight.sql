-- carto_pin_preflight(...): everything pin_create must know, and count, before it writes, in one call:
-- the replay lookup by client_uuid, the placement (carto_place), the EPT, the territories' names for the
-- response, the reserved id, the device's history, the blurred public location, whether the theme the
-- caller holds (carto.services.themes keeps them in memory) is still the stored one, and the throttle
-- counters of a screened write.
-- SQL: every part is a lookup in the database, and one round trip instead of six. PL/pgSQL: the statement is
-- the same for every pin and planning it took longer than running it (0.6 of 1.1 ms, EXPLAIN ANALYZE at
-- 100 k pins); a PL/pgSQL function keeps its plans for the session.
-- The public location (a new pin inside the Métropole only) is carto_blur's (carto/sql/carto_blur.sql).
-- The id comes from the sequence only for a new pin inside the Métropole.
-- Counting (in_area_key not null): only a new pin inside the Métropole whose theme is current is counted,
-- after the replay check on purpose (a client retrying the same pin is never throttled). The keys are
-- in_keys, in_area_key followed by the commune's id, and in_new_device_key when the device is new (no pin,
-- or a first pin at most in_new_device_window before in_now: carto.services.abuse.is_new_device).
CREATE OR REPLACE FUNCTION carto_pin_preflight(
  in_point geometry, in_tolerance float8, in_client_uuid uuid,
  in_theme_id bigint, in_theme_slug varchar, in_theme_parent_id bigint, in_theme_blur_meters integer,
  in_device_hash varchar, in_text text, in_xs float8[], in_ys float8[],
  in_keys varchar[], in_area_key varchar, in_new_device_key varchar, in_now timestamptz,
  in_new_device_window interval, in_window_start timestamptz, in_previous_start timestamptz)
RETURNS TABLE (
  replay_id bigint, replay_fingerprint varchar, theme_current boolean, inside boolean,
  commune_id bigint, arrondissement_id bigint, qpv_id bigint, ept_id bigint, new_id bigint,
  first_pin_at timestamptz, device_pins bigint, device_same_text bigint, territories json,
  public_x float8, public_y float8, hit_keys varchar[], hit_current integer[], hit_previous integer[])
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  pre record;
  counted varchar[];
  blurred geometry;
BEGIN
  WITH replay AS (SELECT p.id, p.request_fingerprint FROM carto_pin p WHERE p.client_uuid = in_client_uuid),
  placed AS (SELECT pl.* FROM carto_place(in_point, in_tolerance) pl)
  SELECT
    (SELECT r.id FROM replay r) AS replay_id,
    (SELECT r.request_fingerprint FROM replay r) AS replay_fingerprint,
    EXISTS (SELECT 1 FROM carto_theme t WHERE t.id = in_theme_id AND t.slug = in_theme_slug
            AND t.parent_id IS NOT DISTINCT FROM in_theme_parent_id
            AND t.blur_meters = in_theme_blur_meters) AS theme_current,
    placed.inside, placed.commune_id, placed.arrondissement_id, placed.qpv_id, placed.ept_id,
    CASE WHEN NOT EXISTS (SELECT 1 FROM replay) AND placed.inside
         THEN nextval(pg_get_serial_sequence('carto_pin', 'id')) END AS new_id,
    h.first_pin_at, h.pins, h.same_text,
    (SELECT json_object_agg(t.id, json_build_array(t.kind, t.code, t.name)) FROM carto_territory t
     WHERE t.id IN (placed.commune_id, placed.arrondissement_id, placed.qpv_id)
        OR t.id = placed.ept_id) AS territories
  INTO pre
  FROM placed
  LEFT JOIN LATERAL (
    SELECT min(p.created_at) AS first_pin_at, count(*) AS pins,
           count(*) FILTER (WHERE p.text = in_text) AS same_text
    FROM carto_pin p WHERE p.device_hash = in_device_hash
  ) h ON in_device_hash <> '';

  IF pre.new_id IS NOT NULL AND cardinality(in_xs) > 0 THEN
    blurred := carto_blur(in_point, in_xs, in_ys, pre.commune_id, pre.arrondissement_id, pre.qpv_id,
                          in_theme_blur_meters);
  END IF;

  IF in_area_key IS NOT NULL AND pre.replay_id IS NULL AND pre.inside AND pre.theme_current THEN
    counted := in_keys || (in_area_key || pre.commune_id::text)::varchar;
    IF in_new_device_key IS NOT NULL
       AND (pre.first_pin_at IS NULL OR in_now - pre.first_pin_at <= in_new_device_window) THEN
      counted := counted || in_new_device_key;
    END IF;
    SELECT array_agg(w.key), array_agg(w.current), array_agg(w.previous)
    INTO hit_keys, hit_current, hit_previous
    FROM carto_writes_count(counted, in_window_start, in_previous_start) w;
  END IF;

  replay_id := pre.replay_id; replay_fingerprint := pre.replay_fingerprint;
  theme_current := pre.theme_current; inside := pre.inside;
  commune_id := pre.commune_id; arrondissement_id := pre.arrondissement_id; qpv_id := pre.qpv_id;
  ept_id := pre.ept_id; new_id := pre.new_id;
  first_pin_at := pre.first_pin_at; device_pins := pre.pins; device_same_text := pre.same_text;
  territories := pre.territories; public_x := ST_X(blurred); public_y := ST_Y(blurred);
  RETURN NEXT;
END
$$;
