-- Up Migration

-- The reply a delivery receipt belongs to, looked up in two steps, each answered by one index whatever the
-- statistics say: the `reply:<inbound sid>` row by the unique key, else a row that already carries the
-- provider's id by the provider_sent_ids GIN index. As one query with an OR and a preference order, Postgres
-- planned it from the table's statistics; on a table never analysed (a new deployment's first texts, until
-- autovacuum's first analyze) the session's generic plan walked every text of the provider instead, a cost that
-- grows with the table. Rules and result are those of
-- migrations/1732500009704.
CREATE OR REPLACE FUNCTION store_message_status(
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
  IF p_reply_to IS NOT NULL THEN
    SELECT id INTO v_reply_id FROM sms_messages
    WHERE provider = p_provider AND provider_message_id = 'reply:' || p_reply_to AND direction = 'outbound';
  END IF;
  IF v_reply_id IS NULL THEN
    -- Provider and direction are checked on the rows found: given them, a generic plan would first walk the
    -- provider's whole range of the unique key to intersect it with the GIN index's answer.
    WITH linked AS MATERIALIZED (
      SELECT id, provider, direction FROM sms_messages WHERE provider_sent_ids @> ARRAY[p_message_id]
    )
    SELECT id INTO v_reply_id FROM linked WHERE provider = p_provider AND direction = 'outbound' LIMIT 1;
  END IF;

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
-- The body of migrations/1732500009704: one lookup with an OR.
CREATE OR REPLACE FUNCTION store_message_status(
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
    IF v_stray_status IS NOT NULL AND message_status_rank(v_stray_status) >= message_status_rank(p_status) THEN
      v_best := v_stray_status;
      v_best_error := v_stray_error;
    ELSE
      v_best := p_status;
      v_best_error := p_error;
    END IF;
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
