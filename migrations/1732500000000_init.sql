-- Up Migration

-- updated_at is kept by the database, whoever writes the row.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- Lifecycle position of a message status; an update may only move a row to a higher rank.
-- Terminal outcomes share a rank so the first one to arrive wins; `read` may still follow `delivered`.
CREATE OR REPLACE FUNCTION message_status_rank(status text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'pending' THEN 0 WHEN 'accepted' THEN 1 WHEN 'scheduled' THEN 1 WHEN 'queued' THEN 2
    WHEN 'sending' THEN 3 WHEN 'receiving' THEN 3 WHEN 'sent' THEN 4 WHEN 'received' THEN 5
    WHEN 'delivered' THEN 6 WHEN 'undelivered' THEN 6 WHEN 'failed' THEN 6 WHEN 'canceled' THEN 6
    WHEN 'suppressed' THEN 6 WHEN 'read' THEN 7 ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION call_status_rank(status text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'queued' THEN 0 WHEN 'initiated' THEN 1 WHEN 'ringing' THEN 2 WHEN 'in-progress' THEN 3
    WHEN 'completed' THEN 4 WHEN 'busy' THEN 4 WHEN 'failed' THEN 4 WHEN 'no-answer' THEN 4 WHEN 'canceled' THEN 4
    ELSE 0 END
$$;

CREATE TABLE sms_messages (
  id bigserial PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('twilio', 'voipms')),
  provider_message_id text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  from_number text NOT NULL,
  to_number text NOT NULL,
  body text,
  status text NOT NULL,
  error_code text,
  auto_response_intent text,
  language text,
  in_reply_to bigint REFERENCES sms_messages (id) ON DELETE SET NULL,
  num_segments integer,
  num_media integer NOT NULL DEFAULT 0,
  media_urls text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_message_id)
);
CREATE INDEX sms_messages_created_at_idx ON sms_messages (created_at);
-- Loop guard and effectiveness queries: recent auto-replies to a number, and recent messages from it.
CREATE INDEX sms_messages_to_recent_idx ON sms_messages (to_number, created_at) WHERE direction = 'outbound';
CREATE INDEX sms_messages_from_recent_idx ON sms_messages (from_number, created_at) WHERE direction = 'inbound';
CREATE TRIGGER sms_messages_updated_at BEFORE UPDATE ON sms_messages FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE calls (
  id bigserial PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('twilio', 'voipms')),
  provider_call_id text NOT NULL,
  direction text NOT NULL,
  from_number text,
  to_number text,
  caller_name text,
  status text NOT NULL,
  -- Twilio SequenceNumber of the callback that set `status`; orders callbacks of equal rank.
  status_sequence integer,
  duration_seconds integer,
  cost numeric(12, 5),
  currency text,
  started_at timestamptz,
  ended_at timestamptz,
  answered_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_call_id)
);
CREATE INDEX calls_created_at_idx ON calls (created_at);
CREATE INDEX calls_from_recent_idx ON calls (from_number, created_at);
CREATE TRIGGER calls_updated_at BEFORE UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE recordings (
  id bigserial PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('twilio', 'voipms')),
  provider_recording_id text NOT NULL,
  provider_call_id text,
  source text,
  duration_seconds integer,
  status text NOT NULL,
  error_code text,
  storage_key text,
  size_bytes bigint,
  content_type text,
  archived_at timestamptz,
  provider_deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_recording_id)
);
CREATE INDEX recordings_created_at_idx ON recordings (created_at);
CREATE INDEX recordings_call_idx ON recordings (provider, provider_call_id);
CREATE TRIGGER recordings_updated_at BEFORE UPDATE ON recordings FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE transcriptions (
  id bigserial PRIMARY KEY,
  recording_id bigint NOT NULL UNIQUE REFERENCES recordings (id) ON DELETE CASCADE,
  status text NOT NULL,
  text text,
  language text,
  job_name text NOT NULL UNIQUE,
  failure_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER transcriptions_updated_at BEFORE UPDATE ON transcriptions FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE webhook_logs (
  id bigserial PRIMARY KEY,
  provider text NOT NULL,
  endpoint text NOT NULL,
  method text NOT NULL,
  status_code integer NOT NULL,
  signature_valid boolean,
  source_ip text,
  duration_ms numeric(10, 2),
  payload jsonb NOT NULL DEFAULT '{}',
  error text,
  request_id text,
  idempotency_token text,
  -- The raw request for replay, encrypted with a key that never enters the database.
  raw_request_encrypted bytea,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_logs_created_at_idx ON webhook_logs (created_at);
CREATE INDEX webhook_logs_endpoint_idx ON webhook_logs (endpoint, created_at);

CREATE TABLE auto_responses (
  id serial PRIMARY KEY,
  intent text NOT NULL CHECK (intent IN ('appointment', 'emergency', 'hours', 'location', 'insurance', 'opt_out', 'opt_in', 'help', 'default')),
  language text NOT NULL DEFAULT 'en',
  keywords text[] NOT NULL DEFAULT '{}',
  phrases text[] NOT NULL DEFAULT '{}',
  response_text text NOT NULL,
  priority integer NOT NULL DEFAULT 100,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (intent, language)
);
CREATE TRIGGER auto_responses_updated_at BEFORE UPDATE ON auto_responses FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Practice settings per provider and number; the row ('any', '*') is the default for numbers without their own.
CREATE TABLE voip_settings (
  id serial PRIMARY KEY,
  provider text NOT NULL CHECK (provider IN ('twilio', 'voipms', 'any')),
  phone_number text NOT NULL,
  practice_name text NOT NULL DEFAULT 'our office',
  timezone text NOT NULL DEFAULT 'America/New_York',
  weekly_hours jsonb NOT NULL DEFAULT '{"mon":[["08:00","17:00"]],"tue":[["08:00","17:00"]],"wed":[["08:00","17:00"]],"thu":[["08:00","17:00"]],"fri":[["08:00","17:00"]],"sat":[],"sun":[]}',
  holidays jsonb NOT NULL DEFAULT '[]',
  auto_reply_enabled boolean NOT NULL DEFAULT true,
  missed_call_text_back boolean NOT NULL DEFAULT true,
  office_line text,
  emergency_line text,
  address text,
  delete_provider_recordings boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, phone_number)
);
CREATE TRIGGER voip_settings_updated_at BEFORE UPDATE ON voip_settings FOR EACH ROW EXECUTE FUNCTION set_updated_at();
INSERT INTO voip_settings (provider, phone_number) VALUES ('any', '*') ON CONFLICT DO NOTHING;

-- A row means the number has opted out; opting in again deletes it.
CREATE TABLE opt_outs (
  phone_number text PRIMARY KEY,
  opted_out_at timestamptz NOT NULL DEFAULT now(),
  keyword text,
  provider text
);

-- Automated texts we start ourselves (missed-call text-back): one per kind, number and office day.
CREATE TABLE outbound_guards (
  kind text NOT NULL,
  phone_number text NOT NULL,
  day date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, phone_number, day)
);

-- Poller cursors (VoIP.ms getCDR, getCallRecordings).
CREATE TABLE sync_state (
  name text PRIMARY KEY,
  synced_until timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW office_timezone AS
  SELECT coalesce((SELECT timezone FROM voip_settings WHERE phone_number = '*' LIMIT 1), 'America/New_York') AS zone;

CREATE VIEW sms_analytics_daily AS
  WITH m AS (
    SELECT (s.created_at AT TIME ZONE tz.zone)::date AS day, s.*
    FROM sms_messages s CROSS JOIN office_timezone tz
  ), by_intent AS (
    SELECT day, provider, jsonb_object_agg(auto_response_intent, n) AS auto_replies_by_intent
    FROM (SELECT day, provider, auto_response_intent, count(*) AS n FROM m
          WHERE auto_response_intent IS NOT NULL GROUP BY 1, 2, 3) i
    GROUP BY 1, 2
  ), by_status AS (
    SELECT day, provider, jsonb_object_agg(direction || ':' || status, n) AS status_counts
    FROM (SELECT day, provider, direction, status, count(*) AS n FROM m GROUP BY 1, 2, 3, 4) c
    GROUP BY 1, 2
  )
  SELECT m.day, m.provider,
    count(*) FILTER (WHERE m.direction = 'inbound') AS inbound,
    count(*) FILTER (WHERE m.direction = 'outbound') AS outbound,
    count(*) FILTER (WHERE m.direction = 'outbound' AND m.status IN ('delivered', 'read')) AS delivered,
    count(*) FILTER (WHERE m.direction = 'outbound' AND m.status IN ('undelivered', 'failed')) AS failed,
    count(*) FILTER (WHERE m.auto_response_intent IS NOT NULL) AS auto_replies,
    coalesce(max(bi.auto_replies_by_intent::text)::jsonb, '{}') AS auto_replies_by_intent,
    max(bs.status_counts::text)::jsonb AS status_counts
  FROM m
  LEFT JOIN by_intent bi ON bi.day = m.day AND bi.provider = m.provider
  LEFT JOIN by_status bs ON bs.day = m.day AND bs.provider = m.provider
  GROUP BY m.day, m.provider;

CREATE VIEW call_analytics_daily AS
  SELECT (coalesce(c.started_at, c.created_at) AT TIME ZONE tz.zone)::date AS day,
    c.provider,
    count(*) AS calls,
    count(*) FILTER (WHERE c.direction = 'inbound') AS inbound,
    count(*) FILTER (WHERE c.direction <> 'inbound') AS outbound,
    count(*) FILTER (WHERE c.status = 'completed' AND coalesce(c.duration_seconds, 0) > 0) AS answered,
    count(*) FILTER (WHERE c.direction = 'inbound' AND c.status IN ('no-answer', 'busy', 'canceled', 'failed')) AS missed,
    coalesce(sum(c.duration_seconds), 0) AS total_duration_seconds,
    round(avg(c.duration_seconds) FILTER (WHERE c.duration_seconds > 0), 1) AS avg_duration_seconds,
    coalesce(sum(c.cost), 0) AS total_cost
  FROM calls c CROSS JOIN office_timezone tz
  GROUP BY 1, 2;

-- Down Migration
DROP VIEW IF EXISTS call_analytics_daily;
DROP VIEW IF EXISTS sms_analytics_daily;
DROP VIEW IF EXISTS office_timezone;
DROP TABLE IF EXISTS sync_state, outbound_guards, opt_outs, voip_settings, auto_responses, webhook_logs,
  transcriptions, recordings, calls, sms_messages;
DROP FUNCTION IF EXISTS call_status_rank(text), message_status_rank(text), set_updated_at();
