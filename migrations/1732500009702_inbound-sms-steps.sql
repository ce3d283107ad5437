-- Up Migration

-- The inbound-text statement (lib/messages/inbound.ts) as steps instead of one statement of data-modifying CTEs,
-- with the same signature, rules and result as migrations/1732500009502. A CTE statement prepares every branch
-- on every call: each table it could write (alerts, opt_outs, consent_changes, sms_messages three times, events)
-- is opened and locked with all its indexes even when the branch writes nothing, and past sixteen relations
-- Postgres takes those locks through the shared lock table, where concurrent webhooks queue. As steps, a text
-- pays only for what happens to it: the usual text opens its message, budget and events tables and nothing else.
-- Each step is planned once per session; the whole call is still one statement and one transaction.
-- New last argument, p_event_text: whether `sms.received` carries the text (voip_settings.events_include_text),
-- which the caller already holds with the practice settings; NULL (a caller that does not pass it, such as a
-- text queued before this version) looks it up.
DROP FUNCTION store_inbound_sms(text, text, text, text, text, text, integer, integer, text[], jsonb, jsonb, date, integer,
  text, interval, text, timestamptz, boolean);
CREATE FUNCTION store_inbound_sms(
  p_provider text, p_message_id text, p_from text, p_to text, p_body text, p_language text,
  p_num_segments integer, p_num_media integer, p_media_urls text[],
  p_if_subscribed jsonb, p_if_opted_out jsonb,
  p_office_day date, p_daily_cap integer, p_intent text, p_same_intent_window interval, p_reply_status text,
  p_sent_at timestamptz, p_replay boolean, p_event_text boolean DEFAULT NULL
) RETURNS TABLE (stored integer, reply_id bigint, reply_body text, reply_intent text, reply_status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_opted_out boolean;
  v_consent_changed_at timestamptz;
  v_staff boolean;
  v_inbound_id bigint;
  v_choice jsonb;
  v_intent text;
  v_reply text;
  v_opt_out text;
  v_confirmation boolean;
  v_consent_state text;
  v_opt_out_keyword text;
  v_opted_out_now boolean := false;
  v_opted_in boolean := false;
  v_allowed boolean := false;
  v_reply_id bigint;
  v_reply_body text;
  v_reply_intent text;
  v_reply_status text;
  v_types text[] := '{}';
  v_acknowledged uuid[] := '{}';
  v_details jsonb[] := '{}';
  v_ack record;
BEGIN
  SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = p_from),
    (SELECT c.changed_at FROM consent_changes c WHERE c.phone_number = p_from),
    EXISTS (SELECT 1 FROM alert_recipients r WHERE r.practice_number = p_to AND r.phone_number = p_from)
  INTO v_opted_out, v_consent_changed_at, v_staff;

  INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
    language, num_segments, num_media, media_urls, sent_at, kind)
  VALUES (p_provider, p_message_id, 'inbound', p_from, p_to, p_body, 'received', p_language, p_num_segments,
    p_num_media, p_media_urls, p_sent_at, CASE WHEN v_staff THEN 'staff' END)
  ON CONFLICT (provider, provider_message_id) DO NOTHING
  RETURNING id INTO v_inbound_id;

  IF v_inbound_id IS NULL THEN
    -- A repeated delivery stores nothing. The replay of a Twilio text whose first statement committed but whose
    -- answer never came back (a client timeout): the reply stored for the TwiML answer never went out, so it
    -- becomes a text to send.
    IF p_replay THEN
      UPDATE sms_messages m SET status = 'pending'
      WHERE m.provider = p_provider AND m.provider_message_id = 'reply:' || p_message_id AND m.status = 'queued'
      RETURNING m.id, m.body, m.auto_response_intent, m.status
      INTO v_reply_id, v_reply_body, v_reply_intent, v_reply_status;
    END IF;
    RETURN QUERY SELECT 0, v_reply_id, v_reply_body, v_reply_intent, v_reply_status;
    RETURN;
  END IF;

  IF v_staff THEN
    -- A recipient's OK: their open alerts from this practice number (the last day's) are acknowledged, and no one
    -- else is alerted for an event someone has answered. Staff texts are never answered nor opt-outs.
    IF upper(btrim(p_body, E' \t\r\n.!')) IN ('OK', 'OKAY', 'ACK') THEN
      FOR v_ack IN
        UPDATE alerts a SET status = 'acknowledged', acknowledged_at = now(), escalate_at = NULL
        WHERE a.practice_number = p_to AND a.recipient_number = p_from
          AND a.status IN ('pending', 'sent', 'delivered', 'escalated') AND a.created_at > now() - interval '1 day'
        RETURNING a.event_id, a.event_type
      LOOP
        -- One acknowledgement per event: the first OK for it.
        IF NOT v_ack.event_id = ANY (v_acknowledged) THEN
          v_acknowledged := array_append(v_acknowledged, v_ack.event_id);
          v_types := array_append(v_types, 'alert.acknowledged');
          v_details := array_append(v_details, jsonb_build_object('event_id', v_ack.event_id,
            'event_type', v_ack.event_type, 'recipient', p_from, 'message_id', p_message_id));
          UPDATE alerts a SET escalate_at = NULL
          WHERE a.event_id = v_ack.event_id AND a.recipient_number <> p_from AND a.escalate_at IS NOT NULL;
        END IF;
      END LOOP;
    END IF;
  ELSE
    v_choice := CASE WHEN v_opted_out THEN p_if_opted_out ELSE p_if_subscribed END;
    v_intent := v_choice ->> 'intent';
    v_reply := v_choice ->> 'reply';
    v_opt_out := v_choice ->> 'opt_out';
    v_confirmation := (v_choice ->> 'confirmation')::boolean;

    -- A consent change older than the last one applied (delivered late) is stored but not applied; within the
    -- same second (the providers' resolution) arrival order decides.
    IF v_opt_out IN ('out', 'in') AND p_sent_at >= coalesce(v_consent_changed_at, '-infinity') THEN
      INSERT INTO consent_changes AS cc (phone_number, state, changed_at)
      VALUES (p_from, v_opt_out, p_sent_at)
      ON CONFLICT (phone_number) DO UPDATE SET state = EXCLUDED.state, changed_at = EXCLUDED.changed_at
        WHERE cc.changed_at <= EXCLUDED.changed_at
      RETURNING state INTO v_consent_state;
      IF v_opt_out = 'out' AND v_consent_state = 'out' THEN
        INSERT INTO opt_outs (phone_number, keyword, provider, opted_out_at)
        VALUES (p_from, left(v_choice ->> 'keyword', 40), p_provider, p_sent_at)
        ON CONFLICT (phone_number) DO NOTHING
        RETURNING keyword INTO v_opt_out_keyword;
        v_opted_out_now := FOUND;
        IF v_opted_out_now THEN
          v_types := array_append(v_types, 'patient.opted_out');
          v_details := array_append(v_details,
            jsonb_build_object('phone_number', p_from, 'keyword', v_opt_out_keyword));
        END IF;
      ELSIF v_opt_out = 'in' AND v_consent_state = 'in' THEN
        DELETE FROM opt_outs WHERE phone_number = p_from;
        v_opted_in := FOUND;
      END IF;
    END IF;

    IF v_reply IS NOT NULL THEN
      IF v_confirmation AND v_opt_out = 'out' THEN
        v_allowed := v_opted_out_now;
      ELSIF v_confirmation AND v_opt_out = 'in' THEN
        v_allowed := v_opted_in;
      ELSIF NOT v_confirmation AND NOT v_opted_out THEN
        -- The day only moves forward: a text deferred from yesterday counts against today's cap, never resets it.
        INSERT INTO auto_reply_budget AS b (phone_number, day, replies, last_by_intent)
        VALUES (p_from, p_office_day, 1, jsonb_build_object(v_intent, now()))
        ON CONFLICT (phone_number) DO UPDATE SET
          replies = CASE WHEN EXCLUDED.day > b.day THEN 1 ELSE b.replies + 1 END,
          day = greatest(b.day, EXCLUDED.day),
          last_by_intent = b.last_by_intent || EXCLUDED.last_by_intent,
          updated_at = now()
        WHERE (EXCLUDED.day > b.day OR b.replies < p_daily_cap)
          AND coalesce((b.last_by_intent ->> p_intent)::timestamptz, '-infinity') < now() - p_same_intent_window;
        v_allowed := FOUND;
      END IF;
      IF v_allowed THEN
        INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
          auto_response_intent, language, in_reply_to, kind)
        VALUES (p_provider, 'reply:' || p_message_id, 'outbound', p_to, p_from, v_reply, p_reply_status, v_intent,
          v_choice ->> 'language', v_inbound_id, 'auto-reply')
        ON CONFLICT (provider, provider_message_id) DO NOTHING
        RETURNING id, body, auto_response_intent, status
        INTO v_reply_id, v_reply_body, v_reply_intent, v_reply_status;
      END IF;
    END IF;

    v_types := array_append(v_types, 'sms.received');
    v_details := array_append(v_details,
      jsonb_build_object('message_id', v_inbound_id, 'from', p_from, 'intent', p_intent, 'language', p_language,
        'num_media', p_num_media)
      || CASE WHEN coalesce(p_event_text, events_include_text(p_provider, p_to)) THEN jsonb_build_object('text', p_body)
         ELSE '{}'::jsonb END);
    IF p_intent = 'emergency' THEN
      v_types := array_append(v_types, 'patient.emergency');
      v_details := array_append(v_details, jsonb_build_object('message_id', v_inbound_id, 'from', p_from,
        'auto_replied', v_reply_id IS NOT NULL));
    END IF;
    IF v_reply_id IS NOT NULL THEN
      v_types := array_append(v_types, 'sms.auto_replied');
      v_details := array_append(v_details, jsonb_build_object('message_id', v_reply_id, 'in_reply_to', p_message_id,
        'to', p_from, 'intent', v_reply_intent, 'status', v_reply_status));
    END IF;
    IF v_opted_in THEN
      v_types := array_append(v_types, 'patient.opted_in');
      v_details := array_append(v_details, jsonb_build_object('phone_number', p_from));
    END IF;
  END IF;

  -- Each event keyed by type + provider + message id (an acknowledgement by the event it answers), so
  -- redeliveries never add one.
  IF cardinality(v_types) > 0 THEN
    INSERT INTO events (id, dedupe_key, type, provider, practice_number, time, detail)
    SELECT md5(k.key)::uuid, k.key, e.type, p_provider, p_to, p_sent_at, e.detail
    FROM unnest(v_types, v_details) AS e(type, detail),
      LATERAL (SELECT CASE WHEN e.type = 'alert.acknowledged' THEN e.type || ':' || (e.detail ->> 'event_id')
        ELSE e.type || ':' || p_provider || ':' || p_message_id END AS key) k
    ON CONFLICT (id) DO NOTHING;
  END IF;

  RETURN QUERY SELECT 1, v_reply_id, v_reply_body, v_reply_intent, v_reply_status;
END $$;

-- Down Migration
-- The body of migrations/1732500009502: one statement of data-modifying CTEs.
DROP FUNCTION store_inbound_sms(text, text, text, text, text, text, integer, integer, text[], jsonb, jsonb, date, integer,
  text, interval, text, timestamptz, boolean, boolean);
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
      (SELECT c.changed_at FROM consent_changes c WHERE c.phone_number = p_from) AS consent_changed_at,
      EXISTS (SELECT 1 FROM alert_recipients r WHERE r.practice_number = p_to AND r.phone_number = p_from)
        AS staff
  ), inbound AS (
    INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
      language, num_segments, num_media, media_urls, sent_at, kind)
    SELECT p_provider, p_message_id, 'inbound', p_from, p_to, p_body, 'received', p_language, p_num_segments,
      p_num_media, p_media_urls, p_sent_at, CASE WHEN p.staff THEN 'staff' END
    FROM prior p
    ON CONFLICT (provider, provider_message_id) DO NOTHING
    RETURNING id, kind
  ), chosen AS (
    SELECT p.opted_out, d.*,
      -- A consent change older than the last one applied (delivered late) is stored but not applied; within
      -- the same second (the providers' resolution) arrival order decides.
      p_sent_at >= coalesce(p.consent_changed_at, '-infinity') AS in_order
    FROM prior p, jsonb_to_record(CASE WHEN p.opted_out THEN p_if_opted_out ELSE p_if_subscribed END)
      AS d(intent text, language text, reply text, opt_out text, keyword text, confirmation boolean)
    WHERE EXISTS (SELECT 1 FROM inbound) AND NOT p.staff
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
    RETURNING keyword
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
  ), acknowledged AS (
    -- A recipient's OK: their open alerts from this practice number (the last day's) are acknowledged.
    UPDATE alerts a SET status = 'acknowledged', acknowledged_at = now(), escalate_at = NULL
    FROM inbound i
    WHERE i.kind = 'staff' AND upper(btrim(p_body, E' \t\r\n.!')) IN ('OK', 'OKAY', 'ACK')
      AND a.practice_number = p_to AND a.recipient_number = p_from
      AND a.status IN ('pending', 'sent', 'delivered', 'escalated') AND a.created_at > now() - interval '1 day'
    RETURNING a.id, a.event_id, a.event_type
  ), stop_escalation AS (
    -- No one else is alerted for an event someone has answered.
    UPDATE alerts a SET escalate_at = NULL
    WHERE a.event_id IN (SELECT event_id FROM acknowledged) AND a.recipient_number <> p_from
      AND a.escalate_at IS NOT NULL
    RETURNING 1
  ), new_events AS (
    SELECT e.type, e.type || ':' || p_provider || ':' || p_message_id AS key, e.detail
    FROM (
      SELECT 'sms.received' AS type, jsonb_build_object('message_id', i.id, 'from', p_from, 'intent', p_intent,
          'language', p_language, 'num_media', p_num_media)
          || CASE WHEN events_include_text(p_provider, p_to) THEN jsonb_build_object('text', p_body)
             ELSE '{}'::jsonb END AS detail
        FROM inbound i WHERE i.kind IS NULL
      UNION ALL
      SELECT 'patient.emergency', jsonb_build_object('message_id', i.id, 'from', p_from,
          'auto_replied', EXISTS (SELECT 1 FROM reply))
        FROM inbound i WHERE i.kind IS NULL AND p_intent = 'emergency'
      UNION ALL
      SELECT 'sms.auto_replied', jsonb_build_object('message_id', r.id, 'in_reply_to', p_message_id, 'to', p_from,
          'intent', r.auto_response_intent, 'status', r.status)
        FROM reply r
      UNION ALL
      SELECT 'patient.opted_out', jsonb_build_object('phone_number', p_from, 'keyword', o.keyword)
        FROM opt_out o
      UNION ALL
      SELECT 'patient.opted_in', jsonb_build_object('phone_number', p_from) FROM (SELECT 1 FROM opt_in LIMIT 1) x
    ) e
    UNION ALL
    -- One acknowledgement per event: the first OK for it.
    SELECT DISTINCT 'alert.acknowledged', 'alert.acknowledged:' || k.event_id,
      jsonb_build_object('event_id', k.event_id, 'event_type', k.event_type, 'recipient', p_from,
        'message_id', p_message_id)
    FROM acknowledged k
  ), recorded AS (
    INSERT INTO events (id, dedupe_key, type, provider, practice_number, time, detail)
    SELECT md5(n.key)::uuid, n.key, n.type, p_provider, p_to, p_sent_at, n.detail FROM new_events n
    ON CONFLICT (id) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM inbound)::integer, r.id, r.body, r.auto_response_intent, r.status
  FROM (SELECT 1) one LEFT JOIN (SELECT * FROM reply UNION ALL SELECT * FROM untold) r ON true;
END $$;
