-- Up Migration

-- Follow-ups recorded with the data (DESIGN.md "one mechanism for everything that must happen after a write").
-- The rows a webhook stores are the outbox: an outbound text waiting to go is an sms_messages row in 'pending'
-- (or 'unknown' when a send's outcome is not known), a recording waiting to be archived is a recordings row in
-- 'completed' with no storage key. The webhook hands them to the queue at once; the relay
-- (lib/followups/relay.ts) hands on whatever is still waiting, so a timeout, a failed queue call or a crash
-- delays a follow-up and never loses it. The workers claim a row with a lease before acting, so a follow-up
-- handed on twice is still done once.

ALTER TABLE sms_messages
  -- The provider's own time of the message (VoIP.ms `date`), else when we first received it; kept through an
  -- outage replay, so order-sensitive changes (opt-out, opt-in) follow it rather than arrival order.
  ADD COLUMN IF NOT EXISTS sent_at timestamptz,
  -- A text that must not go before this time (a missed-call text waits for the call's final outcome).
  ADD COLUMN send_after timestamptz,
  -- A worker holds the row until then while it sends; after that the outcome is unknown and is checked.
  ADD COLUMN claimed_until timestamptz,
  -- When the relay last handed the row to the queue.
  ADD COLUMN relayed_at timestamptz;

-- The relay's view of the outbox: only rows still waiting, so it stays tiny whatever the history.
CREATE INDEX sms_messages_unsent_idx ON sms_messages (id)
  WHERE direction = 'outbound' AND status IN ('pending', 'sending', 'unknown');

ALTER TABLE recordings
  -- Where Twilio said the audio is (checked against the API host when stored), for a job handed on again.
  ADD COLUMN media_url text,
  ADD COLUMN claimed_until timestamptz,
  ADD COLUMN relayed_at timestamptz;

CREATE INDEX recordings_unarchived_idx ON recordings (id) WHERE status = 'completed' AND storage_key IS NULL;

-- The latest opt-out or opt-in applied per number, by the message's own time: a START sent before a STOP but
-- stored after it changes nothing.
CREATE TABLE consent_changes (
  phone_number text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('out', 'in')),
  changed_at timestamptz NOT NULL
);

-- Replaced: the inbound-text statement with provider time, consent ordering, a reply budget whose day never
-- moves backwards, and replies kept as follow-ups (see lib/messages/inbound.ts).
DROP FUNCTION IF EXISTS store_inbound_sms(text, text, text, text, text, text, integer, integer, text[], jsonb, jsonb,
  date, integer, text, interval, text);

CREATE FUNCTION store_inbound_sms(
  p_provider text, p_message_id text, p_from text, p_to text, p_body text, p_language text,
  p_num_segments integer, p_num_media integer, p_media_urls text[],
  p_if_subscribed jsonb, p_if_opted_out jsonb,
  p_office_day date, p_daily_cap integer, p_intent text, p_same_intent_window interval, p_reply_status text,
  p_sent_at timestamptz, p_replay boolean
) RETURNS TABLE (stored integer, reply_id bigint, reply_body text, reply_intent text, reply_status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH prior AS (
    SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = p_from) AS opted_out,
      (SELECT c.changed_at FROM consent_changes c WHERE c.phone_number = p_from) AS consent_changed_at
  ), inbound AS (
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
      language, num_segments, num_media, media_urls, sent_at)
    VALUES (p_provider, p_message_id, 'inbound', p_from, p_to, p_body, 'received', p_language, p_num_segments,
      p_num_media, p_media_urls, p_sent_at)
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id
  ), chosen AS (
    SELECT p.opted_out, d.*,
      -- A consent change older than the last one applied (delivered late) is stored but not applied; within
      -- the same second (the providers' resolution) arrival order decides.
      p_sent_at >= coalesce(p.consent_changed_at, '-infinity') AS in_order
    FROM prior p, jsonb_to_record(CASE WHEN p.opted_out THEN p_if_opted_out ELSE p_if_subscribed END)
      AS d(intent text, language text, reply text, opt_out text, keyword text, confirmation boolean)
    WHERE EXISTS (SELECT 1 FROM inbound)
  ), consent AS (
    INSERT INTO consent_changes AS cc (phone_number, state, changed_at)
    SELECT p_from, c.opt_out, p_sent_at FROM chosen c WHERE c.opt_out IN ('out', 'in') AND c.in_order
    ON CONFLICT (phone_number) DO UPDATE SET state = EXCLUDED.state, changed_at = EXCLUDED.changed_at
      WHERE cc.changed_at <= EXCLUDED.changed_at
    RETURNING state
  ), opt_out AS (
    INSERT INTO opt_outs (phone_number, keyword, provider, opted_out_at)
    SELECT p_from, left(c.keyword, 40), p_provider, p_sent_at FROM chosen c, consent k
    WHERE c.opt_out = 'out' AND k.state = 'out'
    ON CONFLICT (phone_number) DO NOTHING
    RETURNING 1
  ), opt_in AS (
    DELETE FROM opt_outs WHERE phone_number = p_from
      AND EXISTS (SELECT 1 FROM chosen c, consent k WHERE c.opt_out = 'in' AND k.state = 'in')
    RETURNING 1
  ), budget AS (
    -- The day only moves forward: a text deferred from yesterday counts against today's cap, never resets it.
    INSERT INTO auto_reply_budget AS b (phone_number, day, replies, last_by_intent)
    SELECT p_from, p_office_day, 1, jsonb_build_object(c.intent, now()) FROM chosen c
    WHERE c.reply IS NOT NULL AND NOT c.confirmation AND NOT c.opted_out
    ON CONFLICT (phone_number) DO UPDATE SET
      replies = CASE WHEN EXCLUDED.day > b.day THEN 1 ELSE b.replies + 1 END,
      day = greatest(b.day, EXCLUDED.day),
      last_by_intent = b.last_by_intent || EXCLUDED.last_by_intent,
      updated_at = now()
    WHERE (EXCLUDED.day > b.day OR b.replies < p_daily_cap)
      AND coalesce((b.last_by_intent ->> p_intent)::timestamptz, '-infinity') < now() - p_same_intent_window
    RETURNING 1
  ), reply AS (
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
      auto_response_intent, language, in_reply_to, kind)
    SELECT p_provider, 'reply:' || p_message_id, 'outbound', p_to, p_from, c.reply, p_reply_status, c.intent,
      c.language, i.id, 'auto-reply'
    FROM chosen c, inbound i
    WHERE c.reply IS NOT NULL AND CASE
      WHEN c.confirmation AND c.opt_out = 'out' THEN EXISTS (SELECT 1 FROM opt_out)
      WHEN c.confirmation AND c.opt_out = 'in' THEN EXISTS (SELECT 1 FROM opt_in)
      ELSE EXISTS (SELECT 1 FROM budget) END
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id, body, auto_response_intent, status
  ), untold AS (
    -- The replay of a Twilio text whose first statement committed but whose answer never came back (a client
    -- timeout): the reply stored for the TwiML answer never went out, so it becomes a text to send.
    UPDATE sms_messages m SET status = 'pending'
    WHERE p_replay AND m.provider = p_provider AND m.provider_message_id = 'reply:' || p_message_id
      AND m.status = 'queued' AND NOT EXISTS (SELECT 1 FROM inbound)
    RETURNING m.id, m.body, m.auto_response_intent, m.status
  )
  SELECT (SELECT count(*) FROM inbound)::integer, r.id, r.body, r.auto_response_intent, r.status
  FROM (SELECT 1) one LEFT JOIN (SELECT * FROM reply UNION ALL SELECT * FROM untold) r ON true;
END $$;

-- Down Migration
DROP FUNCTION IF EXISTS store_inbound_sms(text, text, text, text, text, text, integer, integer, text[], jsonb, jsonb,
  date, integer, text, interval, text, timestamptz, boolean);
DROP TABLE IF EXISTS consent_changes;
DROP INDEX IF EXISTS recordings_unarchived_idx;
ALTER TABLE recordings DROP COLUMN IF EXISTS media_url, DROP COLUMN IF EXISTS claimed_until,
  DROP COLUMN IF EXISTS relayed_at;
DROP INDEX IF EXISTS sms_messages_unsent_idx;
ALTER TABLE sms_messages DROP COLUMN IF EXISTS sent_at, DROP COLUMN IF EXISTS send_after,
  DROP COLUMN IF EXISTS claimed_until, DROP COLUMN IF EXISTS relayed_at;
