-- carto_writes_count(keys, window_start, previous_start): add one write to each key's counter for the hourly
-- window starting at window_start; returns each key's count there and in the window before (the throttles of
-- carto.services.abuse). SQL because two workers counting one window must never both read the old value:
-- PostgreSQL serialises them on the unique (key, window_start) index. Keys are counted in byte order
-- (COLLATE "C", as Python sorts them): two transactions always lock the same rows in the same order, so they
-- never deadlock. PL/pgSQL so that the statement is planned once per session rather than on every write;
-- carto_pin_preflight calls it too, in the same round trip as the rest of a pin's preflight.
CREATE FUNCTION carto_writes_count(in_keys varchar[], in_window_start timestamptz, in_previous_start timestamptz)
RETURNS TABLE (key varchar, current integer, previous integer)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH hit AS (
    INSERT INTO carto_writecounter AS counter (key, window_start, count)
    SELECT k, in_window_start, 1 FROM (SELECT DISTINCT k FROM unnest(in_keys) AS k) AS keys
    ORDER BY k COLLATE "C"
    ON CONFLICT (key, window_start) DO UPDATE SET count = counter.count + 1
    RETURNING counter.key, counter.count
  )
  SELECT hit.key, hit.count, coalesce(earlier.count, 0) FROM hit
  LEFT JOIN carto_writecounter earlier ON earlier.key = hit.key AND earlier.window_start = in_previous_start
  ORDER BY hit.key COLLATE "C";
END
$$;
