-- carto_place(point, tolerance): the territories of a Lambert-93 point, the one placement rule of carto.
-- SQL because every caller is already in the database (a pin's preflight, place_point, replace_pins over
-- a million pins): the GiST index on carto_territory.geometry answers each lookup, no round trip.
-- Rules: a point on a shared border goes to the lowest code (deterministic); a point outside every
-- commune goes to the nearest one (the caller refuses it unless `inside`, i.e. within `tolerance`
-- metres of the Métropole's outline: the shared outlines are generalised to ~100 m).
CREATE FUNCTION carto_place(point geometry, tolerance float8)
RETURNS TABLE (inside boolean, commune_id bigint, ept_id bigint, arrondissement_id bigint, qpv_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  WITH c AS (
    SELECT COALESCE(
      (SELECT t.id FROM carto_territory t WHERE t.kind = 'commune' AND ST_Intersects(t.geometry, point)
         ORDER BY t.code LIMIT 1),
      (SELECT t.id FROM carto_territory t WHERE t.kind = 'commune' ORDER BY t.geometry <-> point, t.code LIMIT 1)
    ) AS id
  )
  SELECT
    (SELECT ST_DWithin(t.geometry, point, tolerance) FROM carto_territory t WHERE t.kind = 'metropole'),
    c.id,
    (SELECT t.parent_id FROM carto_territory t WHERE t.id = c.id),
    (SELECT t.id FROM carto_territory t WHERE t.kind = 'arrondissement' AND ST_Intersects(t.geometry, point)
       ORDER BY t.code LIMIT 1),
    (SELECT t.id FROM carto_territory t WHERE t.kind = 'qpv' AND t.geometry IS NOT NULL
       AND ST_Intersects(t.geometry, point) ORDER BY t.code LIMIT 1)
  FROM c
$$;
