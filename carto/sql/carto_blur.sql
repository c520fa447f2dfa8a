-- carto_blur(point, xs, ys, commune, arrondissement, qpv, meters): a pin's public location, from its exact
-- Lambert-93 point, its blur candidates (carto.services.privacy.blur_candidates, in order of preference) and
-- the territories it publishes (carto_place of the exact point).
-- Rule: the first candidate that carto_place puts in the same commune, arrondissement and QPV (or in no QPV).
-- The territories come from the exact location, so a public point across a border would tell which side of
-- it the resident is (98 of 200 pins along the 19e/20e border, when only the commune and QPV were kept).
-- When none agrees (a narrow territory, a corner where three meet), the candidates drawn halfway, then a
-- quarter of the way back towards the pin; then the point of the agreeing area closest to the first
-- candidate, 1 m inside it where it is wider than 2 m (a point on a border goes to the lowest code).
-- PL/pgSQL: the loop stops at the first agreeing candidate (usually the first: one carto_place).
CREATE OR REPLACE FUNCTION carto_blur(
  in_point geometry, in_xs float8[], in_ys float8[],
  in_commune_id bigint, in_arrondissement_id bigint, in_qpv_id bigint, in_meters integer)
RETURNS geometry
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  candidate geometry;
  area geometry;
BEGIN
  <<search>>
  FOR level IN 0 .. 2 LOOP
    FOR i IN 1 .. cardinality(in_xs) LOOP
      candidate := ST_SetSRID(ST_MakePoint(
        ST_X(in_point) + (in_xs[i] - ST_X(in_point)) / (2 ^ level),
        ST_Y(in_point) + (in_ys[i] - ST_Y(in_point)) / (2 ^ level)), ST_SRID(in_point));
      IF EXISTS (SELECT 1 FROM carto_place(candidate, 0) c
                 WHERE c.commune_id = in_commune_id
                   AND c.arrondissement_id IS NOT DISTINCT FROM in_arrondissement_id
                   AND c.qpv_id IS NOT DISTINCT FROM in_qpv_id) THEN
        RETURN candidate;
      END IF;
    END LOOP;
  END LOOP;
  -- An overlay, hence only here.
  SELECT t.geometry INTO area FROM carto_territory t WHERE t.id = in_commune_id;
  IF in_arrondissement_id IS NOT NULL THEN
    area := ST_Intersection(area, (SELECT t.geometry FROM carto_territory t WHERE t.id = in_arrondissement_id));
  END IF;
  IF in_qpv_id IS NOT NULL THEN
    area := ST_Intersection(area, (SELECT t.geometry FROM carto_territory t WHERE t.id = in_qpv_id));
  ELSE
    SELECT COALESCE(ST_Difference(area, ST_Union(t.geometry)), area) INTO area
    FROM carto_territory t
    WHERE t.kind = 'qpv' AND t.geometry IS NOT NULL AND ST_DWithin(t.geometry, in_point, 2 * in_meters);
  END IF;
  IF NOT ST_IsEmpty(ST_Buffer(area, -1)) THEN
    area := ST_Buffer(area, -1);
  END IF;
  RETURN ST_ClosestPoint(area, ST_SetSRID(ST_MakePoint(in_xs[1], in_ys[1]), ST_SRID(in_point)));
END
$$;
