-- Up Migration

-- Daily rollups of the analytics functions (1732500009001), so a report reads a few rows per day whatever the
-- history. refresh_analytics(from, to) recomputes the days of the range that were never rolled up or that
-- changed since: it runs before every report, so what the report shows is always current.

CREATE TABLE sms_daily_rollup (
  day date NOT NULL, provider text NOT NULL, practice_number text, inbound bigint NOT NULL, outbound bigint NOT NULL,
  delivered bigint NOT NULL, failed bigint NOT NULL, auto_replies bigint NOT NULL, replies_delivered bigint NOT NULL,
  auto_replies_by_intent jsonb NOT NULL, status_counts jsonb
);
CREATE INDEX sms_daily_rollup_day_idx ON sms_daily_rollup (day);

CREATE TABLE call_daily_rollup (
  day date NOT NULL, provider text NOT NULL, practice_number text, calls bigint NOT NULL, inbound bigint NOT NULL,
  outbound bigint NOT NULL, answered bigint NOT NULL, missed bigint NOT NULL, voicemails bigint NOT NULL,
  failed bigint NOT NULL, talk_seconds bigint NOT NULL, avg_talk_seconds numeric, total_duration_seconds bigint NOT NULL,
  total_cost numeric NOT NULL
);
CREATE INDEX call_daily_rollup_day_idx ON call_daily_rollup (day);

CREATE TABLE auto_reply_effectiveness_rollup (
  day date NOT NULL, provider text NOT NULL, practice_number text, intent text, language text, replies bigint NOT NULL,
  delivered bigint NOT NULL, wrote_again bigint NOT NULL, called bigint NOT NULL, followed_up bigint NOT NULL
);
CREATE INDEX auto_reply_effectiveness_rollup_day_idx ON auto_reply_effectiveness_rollup (day);

-- Which local days are rolled up, and when (the changes after that make a day dirty again).
CREATE TABLE analytics_days (
  day date PRIMARY KEY,
  rolled_at timestamptz NOT NULL
);

-- Changes since the last rollup are found by updated_at (set by the database on every update).
CREATE INDEX sms_messages_updated_at_idx ON sms_messages (updated_at);
CREATE INDEX calls_updated_at_idx ON calls (updated_at);

-- The days of [p_from, p_to] whose rollup is missing or stale: never rolled up, or near a text, call or recording
-- changed since their rollup (a row's local day is within a day of its UTC day in any zone, and a follow-up
-- changes the effectiveness of the day before). Changes are looked for from a few minutes before the oldest
-- rollup of the range, so a transaction still open during a refresh is not missed. Custom plans always: with a
-- generic plan `updated_at > since` would scan the whole table.
CREATE FUNCTION analytics_dirty_days(p_from date, p_to date) RETURNS date[] LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  since timestamptz;
  dirty date[];
BEGIN
  SELECT min(a.rolled_at) - interval '5 minutes' INTO since
  FROM analytics_days a WHERE a.day BETWEEN p_from AND p_to;
  SELECT array_agg(DISTINCT x ORDER BY x) INTO dirty FROM (
    SELECT g::date AS x FROM generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') g
    WHERE NOT EXISTS (SELECT 1 FROM analytics_days a WHERE a.day = g::date)
    UNION ALL
    SELECT (message_time(s.sent_at, s.created_at) AT TIME ZONE 'UTC')::date + k
    FROM sms_messages s, generate_series(-2, 1) k WHERE since IS NOT NULL AND s.updated_at > since
    UNION ALL
    SELECT (call_time(c.started_at, c.created_at) AT TIME ZONE 'UTC')::date + k
    FROM calls c, generate_series(-2, 1) k WHERE since IS NOT NULL AND c.updated_at > since
    UNION ALL
    SELECT (r.created_at AT TIME ZONE 'UTC')::date + k
    FROM recordings r, generate_series(-1, 1) k WHERE since IS NOT NULL AND r.created_at > since
  ) changed WHERE x BETWEEN p_from AND p_to;
  RETURN coalesce(dirty, '{}');
END $$;

-- Recomputes the dirty days of [p_from, p_to]; returns how many.
CREATE FUNCTION refresh_analytics(p_from date, p_to date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  dirty date[];
  run record;
  chunk_start date;
BEGIN
  -- One refresh at a time; a second waits and then finds little left to do.
  PERFORM pg_advisory_xact_lock(1732500009002);
  dirty := analytics_dirty_days(p_from, p_to);
  IF cardinality(dirty) = 0 THEN RETURN 0; END IF;

  DELETE FROM sms_daily_rollup WHERE day = ANY (dirty);
  DELETE FROM call_daily_rollup WHERE day = ANY (dirty);
  DELETE FROM auto_reply_effectiveness_rollup WHERE day = ANY (dirty);
  -- Runs of consecutive dirty days, a month at most per statement.
  FOR run IN
    SELECT min(x) AS first, max(x) AS last
    FROM (SELECT x, x - (row_number() OVER (ORDER BY x))::integer AS grp FROM unnest(dirty) x) runs
    GROUP BY grp ORDER BY 1
  LOOP
    chunk_start := run.first;
    WHILE chunk_start <= run.last LOOP
      INSERT INTO sms_daily_rollup SELECT * FROM sms_daily(chunk_start, least(run.last, chunk_start + 30));
      INSERT INTO call_daily_rollup SELECT * FROM call_daily(chunk_start, least(run.last, chunk_start + 30));
      INSERT INTO auto_reply_effectiveness_rollup
        SELECT * FROM auto_reply_effectiveness(chunk_start, least(run.last, chunk_start + 30));
      chunk_start := chunk_start + 31;
    END LOOP;
  END LOOP;
  INSERT INTO analytics_days (day, rolled_at) SELECT x, now() FROM unnest(dirty) x
  ON CONFLICT (day) DO UPDATE SET rolled_at = EXCLUDED.rolled_at;
  RETURN cardinality(dirty);
END $$;

-- Down Migration
DROP FUNCTION IF EXISTS refresh_analytics(date, date);
DROP FUNCTION IF EXISTS analytics_dirty_days(date, date);
DROP INDEX IF EXISTS calls_updated_at_idx;
DROP INDEX IF EXISTS sms_messages_updated_at_idx;
DROP TABLE IF EXISTS analytics_days, auto_reply_effectiveness_rollup, call_daily_rollup, sms_daily_rollup;
