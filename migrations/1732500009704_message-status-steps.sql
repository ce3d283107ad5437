-- Up Migration

-- A delivery receipt (lib/messages/status.ts) as a function of steps instead of one statement of data-modifying
-- CTEs sent as text with every callback: planned once per session, and a receipt opens only the tables its own
-- path writes (see migrations/1732500009702 for the inbound text). Same rules: the stored reply a receipt belongs
-- to is found by the callback's `?reply=` (Twilio TwiML replies, stored as `reply:<inbound sid>`) or by the
-- provider id already linked to it (provider_sent_ids); that row takes the status and keeps the provider id, so
-- one real message stays one row, and a row an earlier receipt made under the bare id is folded into it. A receipt
-- for anything else creates or updates the row keyed by its own id. The status only moves forward
-- (message_status_rank); an opted-out error records the opt-out. Returns how many message rows changed.
CREATE FUNCTION store_message_status(
  p_provider text, p_message_id text, p_from text, p_to text, p_status text, p_error text, p_opted_out boolean,
  p_reply_to text
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_reply_id bigint;
  v_stray_status text;
  v_stray_error text;
  v_best text;
  v_best_error text;
  v_changed integer := 0;
BEGIN
  SELECT id INTO v_reply_id FROM sms_messages
  WHERE provider = p_provider AND direction = 'outbound'
    AND (provider_message_id = 'reply:' || p_reply_to OR provider_sent_ids @> ARRAY[p_message_id])
  ORDER BY provider_message_id = 'reply:' || p_reply_to DESC NULLS LAST
  LIMIT 1;

  IF v_reply_id IS NOT NULL THEN
    DELETE FROM sms_messages s
    WHERE s.provider = p_provider AND s.provider_message_id = p_message_id AND s.direction = 'outbound'
      AND s.body IS NULL AND s.auto_response_intent IS NULL AND s.id <> v_reply_id
    RETURNING s.status, s.error_code INTO v_stray_status, v_stray_error;
    -- The earlier receipt's outcome wins a tie: the first final status is the one that stays.
    IF v_stray_status IS NOT NULL AND message_status_rank(v_stray_status) >= message_status_rank(p_status) THEN
      v_best := v_stray_status;
      v_best_error := v_stray_error;
    ELSE
      v_best := p_status;
      v_best_error := p_error;
    END IF;
    -- A step forward brings its error code; a receipt that only links another part changes neither.
    UPDATE sms_messages m SET
      status = CASE WHEN message_status_rank(v_best) > message_status_rank(m.status) THEN v_best ELSE m.status END,
      error_code = CASE WHEN message_status_rank(v_best) > message_status_rank(m.status)
        THEN coalesce(v_best_error, m.error_code) ELSE m.error_code END,
      provider_sent_ids = CASE WHEN m.provider_sent_ids @> ARRAY[p_message_id] THEN m.provider_sent_ids
                               ELSE coalesce(m.provider_sent_ids, '{}') || p_message_id END
    WHERE m.id = v_reply_id AND (message_status_rank(v_best) > message_status_rank(m.status)
      OR NOT coalesce(m.provider_sent_ids @> ARRAY[p_message_id], false));
    GET DIAGNOSTICS v_changed = ROW_COUNT;
  ELSE
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status, error_code)
    VALUES (p_provider, p_message_id, 'outbound', p_from, p_to, p_status, p_error)
    ON CONFLICT (provider, provider_message_id) DO UPDATE
      SET status = EXCLUDED.status, error_code = coalesce(EXCLUDED.error_code, sms_messages.error_code)
      WHERE message_status_rank(EXCLUDED.status) > message_status_rank(sms_messages.status);
    GET DIAGNOSTICS v_changed = ROW_COUNT;
  END IF;

  IF p_opted_out THEN
    INSERT INTO opt_outs (phone_number, keyword, provider) VALUES (p_to, 'error ' || p_error, p_provider)
    ON CONFLICT (phone_number) DO NOTHING;
  END IF;
  RETURN v_changed;
END $$;

-- Down Migration
DROP FUNCTION store_message_status(text, text, text, text, text, text, boolean, text);
