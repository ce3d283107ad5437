-- Up Migration

-- Loop guard and rate limit for auto-replies, one row per number. Updated in the same statement that stores
-- the reply, with the limits in the ON CONFLICT condition, so concurrent deliveries on several containers
-- cannot exceed them: at most one reply per intent per number per 10 minutes, and a daily cap per number.
CREATE TABLE auto_reply_budget (
  phone_number text PRIMARY KEY,
  day date NOT NULL,
  replies integer NOT NULL,
  last_by_intent jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Did the auto-reply help? For each reply: did the patient write again or call within 24 hours.
CREATE VIEW auto_reply_effectiveness_daily AS
  SELECT (r.created_at AT TIME ZONE tz.zone)::date AS day,
    r.provider,
    r.auto_response_intent AS intent,
    coalesce(r.language, 'en') AS language,
    count(*) AS replies,
    count(*) FILTER (WHERE EXISTS (
      SELECT 1 FROM sms_messages m
      WHERE m.direction = 'inbound' AND m.from_number = r.to_number
        AND m.created_at > r.created_at AND m.created_at <= r.created_at + interval '24 hours')) AS wrote_again,
    count(*) FILTER (WHERE EXISTS (
      SELECT 1 FROM calls c
      WHERE c.from_number = r.to_number AND c.direction = 'inbound'
        AND c.created_at > r.created_at AND c.created_at <= r.created_at + interval '24 hours')) AS called,
    count(*) FILTER (WHERE EXISTS (
      SELECT 1 FROM sms_messages m
      WHERE m.direction = 'inbound' AND m.from_number = r.to_number
        AND m.created_at > r.created_at AND m.created_at <= r.created_at + interval '24 hours')
      OR EXISTS (
      SELECT 1 FROM calls c
      WHERE c.from_number = r.to_number AND c.direction = 'inbound'
        AND c.created_at > r.created_at AND c.created_at <= r.created_at + interval '24 hours')) AS followed_up
  FROM sms_messages r CROSS JOIN office_timezone tz
  WHERE r.direction = 'outbound' AND r.auto_response_intent IS NOT NULL
  GROUP BY 1, 2, 3, 4;

-- Down Migration
DROP VIEW IF EXISTS auto_reply_effectiveness_daily;
DROP TABLE IF EXISTS auto_reply_budget;
