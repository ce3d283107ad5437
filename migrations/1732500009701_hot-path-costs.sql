-- Up Migration

-- What every inbound text pays in Postgres, made smaller without changing any result (issue: performance).

-- The settings lookup behind `sms.received`'s optional text, run once per stored text. As a SQL function it
-- could not be inlined (it has a LIMIT), so every call parsed and planned its query again; plpgsql keeps the
-- plan for the session.
CREATE OR REPLACE FUNCTION events_include_text(p_provider text, p_number text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN coalesce((SELECT v.events_include_text FROM voip_settings v
    WHERE (v.provider IN (p_provider, 'any') AND v.phone_number = p_number) OR (v.provider = 'any' AND v.phone_number = '*')
    ORDER BY (v.phone_number = '*'), (v.provider = 'any') LIMIT 1), false);
END $$;

-- Time columns that only grow with the table (a row's time is close to when it was written) are read by range:
-- reports by message time, the rollups' "changed since", log retention. A BRIN index answers those ranges from
-- a summary per block range; a B-tree on them made every insert descend and lock the same right-most page, the
-- point where concurrent webhooks queue behind each other.
-- The message time (reports) and updated_at (the rollups' "changed since") share one BRIN index, which answers
-- a range on either column: one index fewer for every insert to open, lock and maintain.
DROP INDEX sms_messages_time_idx;
DROP INDEX sms_messages_updated_at_idx;
CREATE INDEX sms_messages_time_idx ON sms_messages USING brin (message_time(sent_at, created_at), updated_at);
DROP INDEX webhook_logs_created_at_idx;
CREATE INDEX webhook_logs_created_at_idx ON webhook_logs USING brin (created_at);

-- Down Migration
DROP INDEX webhook_logs_created_at_idx;
CREATE INDEX webhook_logs_created_at_idx ON webhook_logs (created_at);
DROP INDEX sms_messages_time_idx;
CREATE INDEX sms_messages_time_idx ON sms_messages (message_time(sent_at, created_at));
CREATE INDEX sms_messages_updated_at_idx ON sms_messages (updated_at);
CREATE OR REPLACE FUNCTION events_include_text(p_provider text, p_number text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT v.events_include_text FROM voip_settings v
    WHERE (v.provider IN (p_provider, 'any') AND v.phone_number = p_number) OR (v.provider = 'any' AND v.phone_number = '*')
    ORDER BY (v.phone_number = '*'), (v.provider = 'any') LIMIT 1), false)
$$;
