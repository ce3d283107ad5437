-- Up Migration

-- Texts analytics count patients only: a text from an on-call number (kind 'staff', an acknowledgement) and the
-- staff alerts sent to them (kind 'staff-alert') are left out of the daily SMS figures (docs/analytics.md).
-- Every rolled-up day is recomputed on the next report (a day without an analytics_days row is rolled up again).
CREATE OR REPLACE FUNCTION sms_daily(p_from date, p_to date)
RETURNS TABLE (day date, provider text, practice_number text, inbound bigint, outbound bigint, delivered bigint,
  failed bigint, auto_replies bigint, replies_delivered bigint, auto_replies_by_intent jsonb, status_counts jsonb)
LANGUAGE sql STABLE AS $$
  WITH m AS (
    SELECT (message_time(s.sent_at, s.created_at) AT TIME ZONE coalesce(z.zone, d.zone))::date AS day,
      s.provider, practice_number(s.direction, s.from_number, s.to_number) AS practice_number,
      s.direction, s.status, s.auto_response_intent AS intent
    FROM sms_messages s
    CROSS JOIN office_timezone d
    LEFT JOIN number_timezones z
      ON z.provider = s.provider AND z.phone_number = practice_number(s.direction, s.from_number, s.to_number)
    WHERE message_time(s.sent_at, s.created_at) >= (p_from - 1)::timestamptz
      AND message_time(s.sent_at, s.created_at) < (p_to + 2)::timestamptz
      -- Staff are not patients: the on-call people's texts and the alerts sent to them are not counted.
      AND s.kind IS DISTINCT FROM 'staff' AND s.kind IS DISTINCT FROM 'staff-alert'
  ), g AS (
    SELECT day, provider, practice_number, direction, status, intent, count(*) AS n
    FROM m WHERE day BETWEEN p_from AND p_to
    GROUP BY 1, 2, 3, 4, 5, 6
  ), by_intent AS (
    SELECT day, provider, practice_number, jsonb_object_agg(intent, n) AS by_intent
    FROM (SELECT day, provider, practice_number, intent, sum(n)::bigint AS n FROM g
          WHERE is_reply(direction, intent, status) GROUP BY 1, 2, 3, 4) i
    GROUP BY 1, 2, 3
  ), by_status AS (
    SELECT day, provider, practice_number, jsonb_object_agg(direction || ':' || status, n) AS by_status
    FROM (SELECT day, provider, practice_number, direction, status, sum(n)::bigint AS n FROM g
          GROUP BY 1, 2, 3, 4, 5) st
    GROUP BY 1, 2, 3
  ), totals AS (
    SELECT day, provider, practice_number,
      coalesce(sum(n) FILTER (WHERE direction = 'inbound'), 0)::bigint AS inbound,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND status <> 'suppressed'), 0)::bigint AS outbound,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND is_delivered(status)), 0)::bigint AS delivered,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND status IN ('undelivered', 'failed')), 0)::bigint
        AS failed,
      coalesce(sum(n) FILTER (WHERE is_reply(direction, intent, status)), 0)::bigint AS auto_replies,
      coalesce(sum(n) FILTER (WHERE is_reply(direction, intent, status) AND is_delivered(status)), 0)::bigint
        AS replies_delivered
    FROM g GROUP BY 1, 2, 3
  )
  SELECT t.day, t.provider, t.practice_number, t.inbound, t.outbound, t.delivered, t.failed, t.auto_replies,
    t.replies_delivered, coalesce(bi.by_intent, '{}'), bs.by_status
  FROM totals t
  LEFT JOIN by_intent bi USING (day, provider, practice_number)
  LEFT JOIN by_status bs USING (day, provider, practice_number)
$$;

DELETE FROM analytics_days;

-- Down Migration
CREATE OR REPLACE FUNCTION sms_daily(p_from date, p_to date)
RETURNS TABLE (day date, provider text, practice_number text, inbound bigint, outbound bigint, delivered bigint,
  failed bigint, auto_replies bigint, replies_delivered bigint, auto_replies_by_intent jsonb, status_counts jsonb)
LANGUAGE sql STABLE AS $$
  WITH m AS (
    SELECT (message_time(s.sent_at, s.created_at) AT TIME ZONE coalesce(z.zone, d.zone))::date AS day,
      s.provider, practice_number(s.direction, s.from_number, s.to_number) AS practice_number,
      s.direction, s.status, s.auto_response_intent AS intent
    FROM sms_messages s
    CROSS JOIN office_timezone d
    LEFT JOIN number_timezones z
      ON z.provider = s.provider AND z.phone_number = practice_number(s.direction, s.from_number, s.to_number)
    WHERE message_time(s.sent_at, s.created_at) >= (p_from - 1)::timestamptz
      AND message_time(s.sent_at, s.created_at) < (p_to + 2)::timestamptz
  ), g AS (
    SELECT day, provider, practice_number, direction, status, intent, count(*) AS n
    FROM m WHERE day BETWEEN p_from AND p_to
    GROUP BY 1, 2, 3, 4, 5, 6
  ), by_intent AS (
    SELECT day, provider, practice_number, jsonb_object_agg(intent, n) AS by_intent
    FROM (SELECT day, provider, practice_number, intent, sum(n)::bigint AS n FROM g
          WHERE is_reply(direction, intent, status) GROUP BY 1, 2, 3, 4) i
    GROUP BY 1, 2, 3
  ), by_status AS (
    SELECT day, provider, practice_number, jsonb_object_agg(direction || ':' || status, n) AS by_status
    FROM (SELECT day, provider, practice_number, direction, status, sum(n)::bigint AS n FROM g
          GROUP BY 1, 2, 3, 4, 5) st
    GROUP BY 1, 2, 3
  ), totals AS (
    SELECT day, provider, practice_number,
      coalesce(sum(n) FILTER (WHERE direction = 'inbound'), 0)::bigint AS inbound,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND status <> 'suppressed'), 0)::bigint AS outbound,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND is_delivered(status)), 0)::bigint AS delivered,
      coalesce(sum(n) FILTER (WHERE direction = 'outbound' AND status IN ('undelivered', 'failed')), 0)::bigint
        AS failed,
      coalesce(sum(n) FILTER (WHERE is_reply(direction, intent, status)), 0)::bigint AS auto_replies,
      coalesce(sum(n) FILTER (WHERE is_reply(direction, intent, status) AND is_delivered(status)), 0)::bigint
        AS replies_delivered
    FROM g GROUP BY 1, 2, 3
  )
  SELECT t.day, t.provider, t.practice_number, t.inbound, t.outbound, t.delivered, t.failed, t.auto_replies,
    t.replies_delivered, coalesce(bi.by_intent, '{}'), bs.by_status
  FROM totals t
  LEFT JOIN by_intent bi USING (day, provider, practice_number)
  LEFT JOIN by_status bs USING (day, provider, practice_number)
$$;
