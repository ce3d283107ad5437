-- Up Migration

-- A zone's UTC offsets over a window, as the points where they change: [[epoch ms, offset ms], ...], the first
-- at the window's start (offset = local minus UTC, east positive). The practice settings carry them for the
-- coming days (lib/practice/settings.ts), so a cold container places local times without starting Intl, whose
-- first use costs ~20 ms of ICU start-up. Read hourly, and to the quarter hour within an hour that changes:
-- every clock change in the tz database falls on a quarter hour, and none comes within an hour of another.
-- NULL for a zone Postgres does not know (the caller then asks Intl, which says whether it exists).
CREATE FUNCTION zone_offsets(p_zone text, p_from timestamptz, p_until timestamptz) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT jsonb_agg(jsonb_build_array(extract(epoch FROM c.at)::bigint * 1000, c.offset_s * 1000) ORDER BY c.at)
    FROM (
      SELECT h.at, h.offset_s, lag(h.offset_s) OVER (ORDER BY h.at) AS previous_s
      FROM generate_series(to_timestamp(floor(extract(epoch FROM p_from) / 3600) * 3600), p_until, interval '1 hour')
          AS h0(at),
        LATERAL (SELECT h0.at, extract(epoch FROM (h0.at AT TIME ZONE p_zone) - (h0.at AT TIME ZONE 'UTC'))::bigint
          AS offset_s) h
    ) s,
    LATERAL (
      SELECT CASE WHEN s.previous_s IS NULL THEN s.at ELSE (
        SELECT min(q) FROM generate_series(s.at - interval '45 minutes', s.at, interval '15 minutes') q
        WHERE extract(epoch FROM (q AT TIME ZONE p_zone) - (q AT TIME ZONE 'UTC'))::bigint = s.offset_s
      ) END AS at, s.offset_s
    ) c
    WHERE s.previous_s IS DISTINCT FROM s.offset_s
  );
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN NULL;
END $$;

-- Down Migration
DROP FUNCTION IF EXISTS zone_offsets(text, timestamptz, timestamptz);
