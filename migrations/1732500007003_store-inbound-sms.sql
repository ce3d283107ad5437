-- Up Migration

-- The hot path of an inbound text, as a function so Postgres plans it once per connection instead of on every
-- text (unnamed statements, which transaction poolers need, are planned each time): about twice the texts per
-- second on the same server. Called by lib/messages/inbound.ts (recordInboundSms), which documents the rules.
--
-- In one statement: store the inbound text (a repeat does nothing); read the sender's opt-out state and pick
-- the matching decision; apply an opt-out or opt-in; store the reply row ('reply:<message id>'): confirmations
-- only when the opt-out state really changed, other replies only within the rate limits (auto_reply_budget,
-- updated under its row lock so concurrent deliveries respect them). A retry of a text whose reply is still
-- pending after a minute returns that reply again, so it can be queued again.
CREATE OR REPLACE FUNCTION store_inbound_sms(
  p_provider text, p_message_id text, p_from text, p_to text, p_body text, p_language text,
  p_num_segments integer, p_num_media integer, p_media_urls text[],
  p_if_subscribed jsonb, p_if_opted_out jsonb,
  p_office_day date, p_daily_cap integer, p_intent text, p_same_intent_window interval, p_reply_status text
) RETURNS TABLE (stored integer, reply_id bigint, reply_body text, reply_intent text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH prior AS (
    SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = p_from) AS opted_out
  ), inbound AS (
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
      language, num_segments, num_media, media_urls)
    VALUES (p_provider, p_message_id, 'inbound', p_from, p_to, p_body, 'received', p_language, p_num_segments,
      p_num_media, p_media_urls)
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id
  ), chosen AS (
    SELECT p.opted_out, d.*
    FROM prior p, jsonb_to_record(CASE WHEN p.opted_out THEN p_if_opted_out ELSE p_if_subscribed END)
      AS d(intent text, language text, reply text, opt_out text, keyword text, confirmation boolean)
    WHERE EXISTS (SELECT 1 FROM inbound)
  ), opt_out AS (
    INSERT INTO opt_outs (phone_number, keyword, provider)
    SELECT p_from, left(c.keyword, 40), p_provider FROM chosen c WHERE c.opt_out = 'out'
    ON CONFLICT (phone_number) DO NOTHING
    RETURNING 1
  ), opt_in AS (
    DELETE FROM opt_outs WHERE phone_number = p_from AND EXISTS (SELECT 1 FROM chosen c WHERE c.opt_out = 'in')
    RETURNING 1
  ), budget AS (
    INSERT INTO auto_reply_budget AS b (phone_number, day, replies, last_by_intent)
    SELECT p_from, p_office_day, 1, jsonb_build_object(c.intent, now()) FROM chosen c
    WHERE c.reply IS NOT NULL AND NOT c.confirmation AND NOT c.opted_out
    ON CONFLICT (phone_number) DO UPDATE SET
      replies = CASE WHEN b.day = EXCLUDED.day THEN b.replies + 1 ELSE 1 END,
      day = EXCLUDED.day,
      last_by_intent = b.last_by_intent || EXCLUDED.last_by_intent,
      updated_at = now()
    WHERE (b.day <> EXCLUDED.day OR b.replies < p_daily_cap)
      AND coalesce((b.last_by_intent ->> p_intent)::timestamptz, '-infinity') < now() - p_same_intent_window
    RETURNING 1
  ), reply AS (
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
      auto_response_intent, language, in_reply_to)
    SELECT p_provider, 'reply:' || p_message_id, 'outbound', p_to, p_from, c.reply, p_reply_status, c.intent,
      c.language, i.id
    FROM chosen c, inbound i
    WHERE c.reply IS NOT NULL AND CASE
      WHEN c.confirmation AND c.opt_out = 'out' THEN EXISTS (SELECT 1 FROM opt_out)
      WHEN c.confirmation AND c.opt_out = 'in' THEN EXISTS (SELECT 1 FROM opt_in)
      ELSE EXISTS (SELECT 1 FROM budget) END
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id, body, auto_response_intent
  ), unsent AS (
    -- A retry whose reply is still waiting a minute on (its queueing failed, so the provider retried); a repeat
    -- arriving at the same moment as the first finds it freshly queued and leaves it.
    SELECT m.id, m.body, m.auto_response_intent FROM sms_messages m
    WHERE m.provider = p_provider AND m.provider_message_id = 'reply:' || p_message_id AND m.status = 'pending'
      AND m.created_at < now() - interval '1 minute' AND NOT EXISTS (SELECT 1 FROM inbound)
  )
  SELECT (SELECT count(*) FROM inbound)::integer, r.id, r.body, r.auto_response_intent
  FROM (SELECT 1) one LEFT JOIN (SELECT * FROM reply UNION ALL SELECT * FROM unsent) r ON true;
END $$;

-- Down Migration
DROP FUNCTION IF EXISTS store_inbound_sms(text, text, text, text, text, text, integer, integer, text[], jsonb, jsonb,
  date, integer, text, interval, text);
