-- Up Migration

-- Domain events and staff alerts (docs/events.md). An event is a row of `events`, written by the same statement
-- that stores the data it describes (a CTE of that statement, or a trigger on the stored row, which runs inside
-- the statement): it exists exactly when the data does. Its id is derived from a dedupe key (type, provider and
-- the provider's id), so a redelivery never makes a second event. The follow-up relay publishes unpublished
-- rows to EventBridge and marks them published (lib/events/publish.ts).

CREATE TABLE events (
  -- md5(dedupe_key)::uuid: stable across redeliveries and replays, what consumers dedupe on.
  id uuid PRIMARY KEY,
  dedupe_key text NOT NULL,
  type text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  -- When it happened (the provider's time where it gives one).
  time timestamptz NOT NULL DEFAULT now(),
  provider text NOT NULL,
  practice_number text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  -- A relay holds the row while it publishes; after that another may take it.
  claimed_until timestamptz
);
CREATE INDEX events_recorded_at_idx ON events (recorded_at);
-- The relay's view: only what is still to publish, so each pass stays cheap whatever the history.
CREATE INDEX events_unpublished_idx ON events (recorded_at) WHERE published_at IS NULL;

-- Alert settings per practice number (voip_settings row; the default row applies when a number has none).
ALTER TABLE voip_settings
  -- Event types alerted to recipients whose own list is empty.
  ADD COLUMN alert_events text[] NOT NULL DEFAULT '{patient.emergency,voicemail.received}',
  -- 'standard': callback number, what happened and when. 'full': the message text or transcript too.
  ADD COLUMN alert_detail text NOT NULL DEFAULT 'standard' CHECK (alert_detail IN ('standard', 'full')),
  -- Local "HH:MM" pair; non-emergency alerts wait until it ends. Null: no quiet hours.
  ADD COLUMN alert_quiet_hours text[] CHECK (alert_quiet_hours IS NULL OR cardinality(alert_quiet_hours) = 2),
  ADD COLUMN alert_hourly_cap integer NOT NULL DEFAULT 10 CHECK (alert_hourly_cap > 0),
  -- Message text and (redacted) transcripts in event details: off unless the practice turns it on.
  ADD COLUMN events_include_text boolean NOT NULL DEFAULT false;

CREATE TABLE alert_recipients (
  id serial PRIMARY KEY,
  practice_number text NOT NULL,
  phone_number text NOT NULL,
  position integer NOT NULL CHECK (position >= 1),
  events text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  name text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Also the inbound statement's "is this sender staff?" lookup.
  UNIQUE (practice_number, phone_number)
);
CREATE TRIGGER alert_recipients_updated_at BEFORE UPDATE ON alert_recipients
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE alerts (
  id bigserial PRIMARY KEY,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  provider text NOT NULL,
  practice_number text NOT NULL,
  recipient_number text NOT NULL,
  -- Escalation order of the recipient; 0 for the practice's emergency line (the end of the chain).
  position integer NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'acknowledged', 'escalated')),
  -- Why an alert was not sent ('hourly-cap') or failed (the provider's code).
  reason text,
  -- The stored outbound text (sms_messages, kind 'staff-alert') that carries it.
  message_id bigint,
  -- Emergencies: when the next recipient is alerted unless someone has answered OK.
  escalate_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  acknowledged_at timestamptz,
  escalated_at timestamptz,
  UNIQUE (event_id, recipient_number)
);
CREATE INDEX alerts_escalation_due_idx ON alerts (escalate_at)
  WHERE escalate_at IS NOT NULL AND status IN ('pending', 'sent', 'delivered', 'failed');
CREATE INDEX alerts_recipient_recent_idx ON alerts (recipient_number, created_at);
CREATE INDEX alerts_message_idx ON alerts (message_id) WHERE message_id IS NOT NULL;

-- One event row; a repeat of the same key changes nothing. Used by the triggers below and by statements in code.
CREATE FUNCTION record_event(p_type text, p_key text, p_provider text, p_practice_number text, p_time timestamptz,
  p_detail jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO events (id, dedupe_key, type, provider, practice_number, time, detail)
  VALUES (md5(p_key)::uuid, p_key, p_type, p_provider, coalesce(p_practice_number, 'unknown'),
    coalesce(p_time, now()), p_detail)
  ON CONFLICT (id) DO NOTHING
$$;

-- Whether the practice wants message text in event details (its own row, else the default row).
CREATE FUNCTION events_include_text(p_provider text, p_number text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT v.events_include_text FROM voip_settings v
    WHERE (v.provider IN (p_provider, 'any') AND v.phone_number = p_number) OR (v.provider = 'any' AND v.phone_number = '*')
    ORDER BY (v.phone_number = '*'), (v.provider = 'any') LIMIT 1), false)
$$;

-- message.delivery_failed: an outbound text that ended failed or undelivered, however it got there (a status
-- callback, the outbound worker's answer). A trigger, so every path that stores the status emits it.
CREATE FUNCTION events_on_sms_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.kind = 'staff-alert' THEN
    -- The alert follows its text's delivery; answered or escalated alerts keep their state. A failed
    -- emergency alert escalates at once instead of waiting for an OK that cannot come.
    UPDATE alerts a SET
      status = CASE
        WHEN NEW.status IN ('failed', 'undelivered', 'suppressed', 'canceled') THEN 'failed'
        WHEN NEW.status = 'delivered' THEN 'delivered'
        WHEN NEW.status = 'sent' AND a.status = 'pending' THEN 'sent'
        ELSE a.status END,
      reason = CASE WHEN NEW.status IN ('failed', 'undelivered', 'suppressed', 'canceled')
        THEN coalesce(NEW.error_code, NEW.status) ELSE a.reason END,
      sent_at = CASE WHEN NEW.status IN ('sent', 'delivered') THEN coalesce(a.sent_at, now()) ELSE a.sent_at END,
      escalate_at = CASE WHEN NEW.status IN ('failed', 'undelivered', 'suppressed', 'canceled')
        AND a.escalate_at IS NOT NULL THEN least(a.escalate_at, now()) ELSE a.escalate_at END
    WHERE a.message_id = NEW.id AND a.status IN ('pending', 'sent', 'delivered');
  END IF;
  IF NEW.direction = 'outbound' AND NEW.status IN ('failed', 'undelivered')
     AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status) THEN
    PERFORM record_event('message.delivery_failed', 'message.delivery_failed:' || NEW.provider || ':' || NEW.id,
      NEW.provider, NEW.from_number, now(), jsonb_build_object(
        'message_id', NEW.id, 'to', NEW.to_number, 'kind', NEW.kind, 'intent', NEW.auto_response_intent,
        'status', NEW.status, 'error_code', NEW.error_code, 'in_reply_to', NEW.in_reply_to));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER sms_messages_events_insert AFTER INSERT ON sms_messages FOR EACH ROW
  WHEN (NEW.direction = 'outbound' AND NEW.status IN ('failed', 'undelivered'))
  EXECUTE FUNCTION events_on_sms_status();
CREATE TRIGGER sms_messages_events_update AFTER UPDATE OF status ON sms_messages FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
    AND (NEW.kind = 'staff-alert' OR (NEW.direction = 'outbound' AND NEW.status IN ('failed', 'undelivered'))))
  EXECUTE FUNCTION events_on_sms_status();

-- call.missed: an inbound call that ended unanswered (no answer, busy, caller hung up, or completed without its
-- <Dial> being answered, e.g. sent to voicemail). Emitted once per call, when the final outcome is known.
CREATE FUNCTION events_on_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.direction = 'inbound' AND (NEW.status IN ('no-answer', 'busy', 'canceled')
       OR (NEW.status = 'completed' AND NEW.dial_status IS NOT NULL
           AND NEW.dial_status NOT IN ('completed', 'answered'))) THEN
    PERFORM record_event('call.missed', 'call.missed:' || NEW.provider || ':' || NEW.provider_call_id,
      NEW.provider, NEW.to_number, coalesce(NEW.ended_at, NEW.started_at, now()), jsonb_build_object(
        'call_id', NEW.provider_call_id, 'from', NEW.from_number, 'caller_name', NEW.caller_name,
        'status', NEW.status, 'dial_status', NEW.dial_status, 'started_at', NEW.started_at));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER calls_events AFTER INSERT OR UPDATE OF status, dial_status ON calls FOR EACH ROW
  EXECUTE FUNCTION events_on_call();

-- voicemail.received (the recording is complete) and recording.archived (stored in our bucket).
CREATE FUNCTION events_on_recording() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  c record;
BEGIN
  IF NEW.status NOT IN ('completed', 'archived') OR (TG_OP = 'UPDATE' AND OLD.status = NEW.status) THEN
    RETURN NULL;
  END IF;
  SELECT from_number, to_number INTO c FROM calls
    WHERE provider = NEW.provider AND provider_call_id = NEW.provider_call_id;
  PERFORM record_event('voicemail.received', 'voicemail.received:' || NEW.provider || ':' || NEW.provider_recording_id,
    NEW.provider, c.to_number, NEW.created_at, jsonb_build_object(
      'recording_id', NEW.id, 'call_id', NEW.provider_call_id, 'from', c.from_number,
      'duration_seconds', NEW.duration_seconds));
  IF NEW.status = 'archived' THEN
    PERFORM record_event('recording.archived', 'recording.archived:' || NEW.provider || ':' || NEW.provider_recording_id,
      NEW.provider, c.to_number, coalesce(NEW.archived_at, now()), jsonb_build_object(
        'recording_id', NEW.id, 'call_id', NEW.provider_call_id, 'storage_key', NEW.storage_key,
        'size_bytes', NEW.size_bytes, 'content_type', NEW.content_type));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER recordings_events AFTER INSERT OR UPDATE OF status ON recordings FOR EACH ROW
  EXECUTE FUNCTION events_on_recording();

-- voicemail.transcribed: the (PII-redacted) transcript is stored; its text only if the practice allows it.
CREATE FUNCTION events_on_transcription() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF NEW.status <> 'completed' OR (TG_OP = 'UPDATE' AND OLD.status = NEW.status) THEN RETURN NULL; END IF;
  SELECT rec.provider, rec.provider_recording_id, rec.provider_call_id, c.from_number, c.to_number INTO r
    FROM recordings rec LEFT JOIN calls c ON c.provider = rec.provider AND c.provider_call_id = rec.provider_call_id
    WHERE rec.id = NEW.recording_id;
  PERFORM record_event('voicemail.transcribed', 'voicemail.transcribed:' || r.provider || ':' || r.provider_recording_id,
    r.provider, r.to_number, NEW.updated_at, jsonb_build_object(
      'recording_id', NEW.recording_id, 'call_id', r.provider_call_id, 'from', r.from_number,
      'language', NEW.language, 'characters', length(coalesce(NEW.text, '')))
      || CASE WHEN events_include_text(r.provider, r.to_number)
           THEN jsonb_build_object('transcript', NEW.text) ELSE '{}'::jsonb END);
  RETURN NULL;
END $$;
CREATE TRIGGER transcriptions_events AFTER INSERT OR UPDATE OF status ON transcriptions FOR EACH ROW
  EXECUTE FUNCTION events_on_transcription();

-- Down Migration
DROP TRIGGER IF EXISTS transcriptions_events ON transcriptions;
DROP TRIGGER IF EXISTS recordings_events ON recordings;
DROP TRIGGER IF EXISTS calls_events ON calls;
DROP TRIGGER IF EXISTS sms_messages_events_update ON sms_messages;
DROP TRIGGER IF EXISTS sms_messages_events_insert ON sms_messages;
DROP FUNCTION IF EXISTS events_on_transcription(), events_on_recording(), events_on_call(), events_on_sms_status(),
  events_include_text(text, text), record_event(text, text, text, text, timestamptz, jsonb);
DROP TABLE IF EXISTS alerts, alert_recipients, events;
ALTER TABLE voip_settings DROP COLUMN IF EXISTS alert_events, DROP COLUMN IF EXISTS alert_detail,
  DROP COLUMN IF EXISTS alert_quiet_hours, DROP COLUMN IF EXISTS alert_hourly_cap,
  DROP COLUMN IF EXISTS events_include_text;
