-- Up Migration

-- Analytics a practice can trust (docs/analytics.md holds the same definitions in words).
-- Every report number comes from the functions below; the views are the same functions over all history.

-- The provider's own time of a message when it gives one (VoIP.ms `date`), else the first receipt time. Also
-- added by the message-time migration; IF NOT EXISTS lets either run first.
ALTER TABLE sms_messages ADD COLUMN IF NOT EXISTS sent_at timestamptz;
-- Twilio DialCallDuration: seconds the office line talked with the caller (the parent call's duration also
-- holds the greeting and any voicemail).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS dial_duration_seconds integer;

-- Value sets. NOT VALID first so a database holding an old odd value still migrates; VALIDATE right after,
-- which succeeds on every database this project wrote (a failure is reported, and new rows are checked anyway).
ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN (
  'pending', 'sending', 'unknown', 'accepted', 'scheduled', 'queued', 'sent', 'delivered', 'undelivered', 'failed',
  'canceled', 'suppressed', 'read', 'received', 'receiving')) NOT VALID;
ALTER TABLE calls ADD CONSTRAINT calls_status_check CHECK (status IN (
  'queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled')) NOT VALID;
-- calls.direction gets no CHECK yet: the Twilio voice routes store the Direction parameter as sent, so a value
-- outside the set would turn a signed request into a 5xx. It can follow once the schema checks that parameter.
-- The default settings row is ('any', '*') and there is exactly one of it at most.
ALTER TABLE voip_settings ADD CONSTRAINT voip_settings_default_any CHECK (phone_number <> '*' OR provider = 'any')
  NOT VALID;
DO $$
DECLARE c text;
BEGIN
  FOREACH c IN ARRAY ARRAY['sms_messages.sms_messages_status_check', 'calls.calls_status_check',
    'voip_settings.voip_settings_default_any'] LOOP
    BEGIN
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', split_part(c, '.', 1), split_part(c, '.', 2));
    EXCEPTION WHEN check_violation THEN
      RAISE WARNING 'rows older than constraint % hold a value outside its set; new rows are checked', c;
    END;
  END LOOP;
END $$;
CREATE UNIQUE INDEX voip_settings_one_default ON voip_settings ((true)) WHERE phone_number = '*';

-- The office zone of each practice number, per provider: its own row, else the ('any', number) row.
-- Numbers without a row use office_timezone, the default row's zone.
CREATE VIEW number_timezones AS
  SELECT DISTINCT ON (p.provider, s.phone_number) p.provider, s.phone_number, s.timezone AS zone
  FROM voip_settings s CROSS JOIN (VALUES ('twilio'), ('voipms')) AS p (provider)
  WHERE s.provider IN (p.provider, 'any') AND s.phone_number <> '*'
  ORDER BY p.provider, s.phone_number, s.provider = 'any';

CREATE OR REPLACE VIEW office_timezone AS
  SELECT coalesce((SELECT timezone FROM voip_settings WHERE phone_number = '*'), 'America/New_York') AS zone;

-- ---------------------------------------------------------------------------------------------------------
-- Definitions, once. Simple SQL functions: Postgres inlines them, so they cost nothing per row.

-- When a message happened: the provider's time, else when we first stored it.
CREATE FUNCTION message_time(sent_at timestamptz, created_at timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(sent_at, created_at) $$;
-- When a call happened: its start, else when we first stored it.
CREATE FUNCTION call_time(started_at timestamptz, created_at timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(started_at, created_at) $$;
-- The practice number an event concerns: ours, whichever side it is on.
CREATE FUNCTION practice_number(direction text, from_number text, to_number text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN direction = 'inbound' THEN to_number ELSE from_number END $$;

-- A reply: an outbound auto-reply that left us. Suppressed (never sent), failed and canceled ones are not.
CREATE FUNCTION is_reply(direction text, intent text, status text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT direction = 'outbound' AND intent IS NOT NULL AND status NOT IN ('suppressed', 'failed', 'canceled') $$;
-- Delivered: the carrier confirmed it reached the phone.
CREATE FUNCTION is_delivered(status text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT status IN ('delivered', 'read') $$;

-- What happened to an inbound call, by the same rule as the missed-call text (lib/calls/status.ts):
--   answered: a person took it. Twilio answers every call that runs TwiML, so a `completed` parent call was
--             answered only if the <Dial> to the office line was (dial_status completed/answered);
--             VoIP.ms: disposition ANSWERED.
--   missed:   nobody took it (no-answer, busy, canceled, or a Twilio call completed without an answered dial:
--             after hours, voicemail, office not answering). Voicemails are missed calls too.
--   failed:   the call failed in the network (VoIP.ms FAILED/CONGESTION, Twilio failed): no text-back either.
--   open:     still ringing or in progress.
-- Outbound calls have no outcome (NULL).
CREATE FUNCTION call_outcome(provider text, direction text, status text, dial_status text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN direction <> 'inbound' THEN NULL
    WHEN status IN ('queued', 'initiated', 'ringing', 'in-progress') THEN 'open'
    WHEN status = 'failed' THEN 'failed'
    WHEN status = 'completed' AND (provider <> 'twilio' OR dial_status IN ('completed', 'answered')) THEN 'answered'
    ELSE 'missed' END $$;

-- Two inbound texts from one number this close together are parts of one message, not a new conversation.
CREATE FUNCTION message_part_gap() RETURNS interval
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT interval '30 seconds' $$;
-- How long after a reply a text or call counts as the patient following up.
CREATE FUNCTION follow_up_window() RETURNS interval
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT interval '24 hours' $$;
-- An opt-out keyword on its own (lib/autoreply/builtin-rules.ts opt_out, English and Spanish).
CREATE FUNCTION is_opt_out_text(body text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT upper(btrim(coalesce(body, ''), E' \t\r\n.!')) IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT',
    'REVOKE', 'OPTOUT', 'OPT OUT', 'ALTO', 'BAJA', 'PARAR', 'CANCELAR') $$;

-- Indexes on the event times the reports filter on (the range, then the exact local day, see below).
CREATE INDEX sms_messages_time_idx ON sms_messages (message_time(sent_at, created_at));
CREATE INDEX calls_time_idx ON calls (call_time(started_at, created_at));
-- Follow-ups: a patient's texts and calls after a reply.
CREATE INDEX sms_messages_inbound_from_time_idx ON sms_messages (from_number, message_time(sent_at, created_at))
  WHERE direction = 'inbound';
CREATE INDEX calls_inbound_from_time_idx ON calls (from_number, call_time(started_at, created_at))
  WHERE direction = 'inbound';
-- Delivery receipts that name the provider's id of a stored reply (Twilio reply SID, VoIP.ms part ids).
CREATE INDEX sms_messages_provider_sent_ids_idx ON sms_messages USING gin (provider_sent_ids)
  WHERE provider_sent_ids IS NOT NULL;

-- Read by no statement of the project (checked statement by statement, docs/analytics.md), or replaced by the
-- event-time indexes above; each one costs every webhook write.
DROP INDEX IF EXISTS sms_messages_created_at_idx;
DROP INDEX IF EXISTS sms_messages_to_recent_idx;
DROP INDEX IF EXISTS sms_messages_from_recent_idx;
DROP INDEX IF EXISTS calls_created_at_idx;
DROP INDEX IF EXISTS calls_from_recent_idx;
DROP INDEX IF EXISTS webhook_logs_endpoint_idx;
DROP INDEX IF EXISTS transcriptions_created_at_idx;

-- ---------------------------------------------------------------------------------------------------------
-- Reports for a range of local days. The event-time range (one day of margin each side covers every zone
-- offset) is served by the indexes above, so the cost follows the window; the exact local day of each event is
-- then taken in the zone of the number it concerns.

CREATE FUNCTION sms_daily(p_from date, p_to date)
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

CREATE FUNCTION call_daily(p_from date, p_to date)
RETURNS TABLE (day date, provider text, practice_number text, calls bigint, inbound bigint, outbound bigint,
  answered bigint, missed bigint, voicemails bigint, failed bigint, talk_seconds bigint, avg_talk_seconds numeric,
  total_duration_seconds bigint, total_cost numeric)
LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT (call_time(c.started_at, c.created_at) AT TIME ZONE coalesce(z.zone, d.zone))::date AS day,
      c.provider, practice_number(c.direction, c.from_number, c.to_number) AS practice_number, c.direction,
      call_outcome(c.provider, c.direction, c.status, c.dial_status) AS outcome,
      c.provider_call_id, c.duration_seconds, c.dial_duration_seconds, c.cost
    FROM calls c
    CROSS JOIN office_timezone d
    LEFT JOIN number_timezones z
      ON z.provider = c.provider AND z.phone_number = practice_number(c.direction, c.from_number, c.to_number)
    WHERE call_time(c.started_at, c.created_at) >= (p_from - 1)::timestamptz
      AND call_time(c.started_at, c.created_at) < (p_to + 2)::timestamptz
  ), e AS (
    SELECT c.*,
      -- A voicemail: a missed call on which the caller left a message (a recording not of the office dial).
      c.outcome = 'missed' AND EXISTS (
        SELECT 1 FROM recordings r
        WHERE r.provider = c.provider AND r.provider_call_id = c.provider_call_id
          AND r.status <> 'absent' AND r.source IS DISTINCT FROM 'DialVerb') AS voicemail,
      -- Talk time: only answered calls, and of those the conversation with the office (Twilio DialCallDuration,
      -- else the recording of the dial), never the greeting or a voicemail.
      CASE WHEN c.outcome = 'answered' THEN coalesce(c.dial_duration_seconds,
        (SELECT max(r.duration_seconds) FROM recordings r
         WHERE r.provider = c.provider AND r.provider_call_id = c.provider_call_id AND r.source = 'DialVerb'),
        c.duration_seconds, 0) END AS talk
    FROM c WHERE c.day BETWEEN p_from AND p_to
  )
  SELECT day, provider, practice_number, count(*),
    count(*) FILTER (WHERE direction = 'inbound'),
    count(*) FILTER (WHERE direction <> 'inbound'),
    count(*) FILTER (WHERE outcome = 'answered'),
    count(*) FILTER (WHERE outcome = 'missed'),
    count(*) FILTER (WHERE voicemail),
    count(*) FILTER (WHERE outcome = 'failed'),
    coalesce(sum(talk), 0)::bigint,
    round(avg(talk), 1),
    coalesce(sum(duration_seconds), 0)::bigint,
    coalesce(sum(cost), 0)
  FROM e GROUP BY 1, 2, 3
$$;

-- Did the auto-reply help? A follow-up is the patient starting a new conversation within follow_up_window()
-- of the reply: a text after the message that was answered that is not a further part of a message (no text
-- of theirs within message_part_gap() before it) and not an opt-out; or an inbound call that started after it.
CREATE FUNCTION auto_reply_effectiveness(p_from date, p_to date)
RETURNS TABLE (day date, provider text, practice_number text, intent text, language text, replies bigint,
  delivered bigint, wrote_again bigint, called bigint, followed_up bigint)
LANGUAGE sql STABLE AS $$
  WITH r AS (
    SELECT (message_time(r.sent_at, r.created_at) AT TIME ZONE coalesce(z.zone, d.zone))::date AS day,
      r.provider, r.from_number AS practice_number, r.to_number AS patient, r.auto_response_intent AS intent,
      coalesce(r.language, 'en') AS language, r.status,
      message_time(r.sent_at, r.created_at) AS at,
      coalesce((SELECT message_time(i.sent_at, i.created_at) FROM sms_messages i WHERE i.id = r.in_reply_to),
        message_time(r.sent_at, r.created_at)) AS answered_at
    FROM sms_messages r
    CROSS JOIN office_timezone d
    LEFT JOIN number_timezones z ON z.provider = r.provider AND z.phone_number = r.from_number
    WHERE message_time(r.sent_at, r.created_at) >= (p_from - 1)::timestamptz
      AND message_time(r.sent_at, r.created_at) < (p_to + 2)::timestamptz
      AND is_reply(r.direction, r.auto_response_intent, r.status)
  ), f AS (
    SELECT r.*,
      EXISTS (
        SELECT 1 FROM sms_messages m
        WHERE m.direction = 'inbound' AND m.from_number = r.patient
          AND message_time(m.sent_at, m.created_at) > r.answered_at
          AND message_time(m.sent_at, m.created_at) <= r.at + follow_up_window()
          AND NOT is_opt_out_text(m.body)
          AND NOT EXISTS (SELECT 1 FROM opt_outs o
                          WHERE o.phone_number = m.from_number AND o.opted_out_at = m.created_at)
          AND NOT EXISTS (
            SELECT 1 FROM sms_messages p
            WHERE p.direction = 'inbound' AND p.from_number = m.from_number AND p.id <> m.id
              AND message_time(p.sent_at, p.created_at) >= message_time(m.sent_at, m.created_at) - message_part_gap()
              AND message_time(p.sent_at, p.created_at) <= message_time(m.sent_at, m.created_at))) AS wrote_again,
      EXISTS (
        SELECT 1 FROM calls c
        WHERE c.direction = 'inbound' AND c.from_number = r.patient
          AND call_time(c.started_at, c.created_at) > r.answered_at
          AND call_time(c.started_at, c.created_at) <= r.at + follow_up_window()) AS called
    FROM r WHERE r.day BETWEEN p_from AND p_to
  )
  SELECT day, provider, practice_number, intent, language, count(*),
    count(*) FILTER (WHERE is_delivered(status)),
    count(*) FILTER (WHERE wrote_again),
    count(*) FILTER (WHERE called),
    count(*) FILTER (WHERE wrote_again OR called)
  FROM f GROUP BY 1, 2, 3, 4, 5
$$;

-- The views: the same definitions over all history (for ad-hoc queries; the report asks for its range).
-- Same leading columns as before; per-office and new columns follow.
DROP VIEW IF EXISTS auto_reply_effectiveness_daily;
DROP VIEW IF EXISTS call_analytics_daily;
DROP VIEW IF EXISTS sms_analytics_daily;

CREATE VIEW sms_analytics_daily AS
  SELECT day, provider, inbound, outbound, delivered, failed, auto_replies, auto_replies_by_intent, status_counts,
    practice_number, replies_delivered
  FROM sms_daily('-infinity', 'infinity');

CREATE VIEW call_analytics_daily AS
  SELECT day, provider, calls, inbound, outbound, answered, missed, total_duration_seconds,
    avg_talk_seconds AS avg_duration_seconds, total_cost, practice_number, voicemails, failed, talk_seconds
  FROM call_daily('-infinity', 'infinity');

CREATE VIEW auto_reply_effectiveness_daily AS
  SELECT day, provider, intent, language, replies, wrote_again, called, followed_up, practice_number, delivered
  FROM auto_reply_effectiveness('-infinity', 'infinity');

-- Retention of the guard tables: counted in purge_log with the rest.
ALTER TABLE purge_log ADD COLUMN IF NOT EXISTS outbound_guards integer NOT NULL DEFAULT 0;
ALTER TABLE purge_log ADD COLUMN IF NOT EXISTS auto_reply_budget integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE purge_log DROP COLUMN IF EXISTS auto_reply_budget, DROP COLUMN IF EXISTS outbound_guards;
DROP VIEW IF EXISTS auto_reply_effectiveness_daily;
DROP VIEW IF EXISTS call_analytics_daily;
DROP VIEW IF EXISTS sms_analytics_daily;
DROP FUNCTION IF EXISTS auto_reply_effectiveness(date, date);
DROP FUNCTION IF EXISTS call_daily(date, date);
DROP FUNCTION IF EXISTS sms_daily(date, date);
DROP INDEX IF EXISTS sms_messages_provider_sent_ids_idx;
DROP INDEX IF EXISTS calls_inbound_from_time_idx;
DROP INDEX IF EXISTS sms_messages_inbound_from_time_idx;
DROP INDEX IF EXISTS calls_time_idx;
DROP INDEX IF EXISTS sms_messages_time_idx;
CREATE INDEX IF NOT EXISTS sms_messages_created_at_idx ON sms_messages (created_at);
CREATE INDEX IF NOT EXISTS sms_messages_to_recent_idx ON sms_messages (to_number, created_at) WHERE direction = 'outbound';
CREATE INDEX IF NOT EXISTS sms_messages_from_recent_idx ON sms_messages (from_number, created_at) WHERE direction = 'inbound';
CREATE INDEX IF NOT EXISTS calls_created_at_idx ON calls (created_at);
CREATE INDEX IF NOT EXISTS calls_from_recent_idx ON calls (from_number, created_at);
CREATE INDEX IF NOT EXISTS webhook_logs_endpoint_idx ON webhook_logs (endpoint, created_at);
CREATE INDEX IF NOT EXISTS transcriptions_created_at_idx ON transcriptions (created_at);
DROP FUNCTION IF EXISTS is_opt_out_text(text), follow_up_window(), message_part_gap(),
  call_outcome(text, text, text, text), is_delivered(text), is_reply(text, text, text),
  practice_number(text, text, text), call_time(timestamptz, timestamptz), message_time(timestamptz, timestamptz);
CREATE OR REPLACE VIEW office_timezone AS
  SELECT coalesce((SELECT timezone FROM voip_settings WHERE phone_number = '*' LIMIT 1), 'America/New_York') AS zone;
DROP VIEW IF EXISTS number_timezones;
DROP INDEX IF EXISTS voip_settings_one_default;
ALTER TABLE voip_settings DROP CONSTRAINT IF EXISTS voip_settings_default_any;
ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_status_check;
ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_status_check;
ALTER TABLE calls DROP COLUMN IF EXISTS dial_duration_seconds;
