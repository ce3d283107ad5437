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

-- The log's time column only grows with the table and is read by range (retention): a BRIN index answers those
-- ranges from a summary per block range, where a B-tree made every insert descend and lock the same right-most
-- page. The message-time and updated_at indexes of sms_messages stay B-trees: reports and rollups must find a
-- day's texts fast whatever order they were stored in (a backfill, a replay after an outage).
DROP INDEX webhook_logs_created_at_idx;
CREATE INDEX webhook_logs_created_at_idx ON webhook_logs USING brin (created_at);

-- Down Migration
DROP INDEX webhook_logs_created_at_idx;
CREATE INDEX webhook_logs_created_at_idx ON webhook_logs (created_at);
CREATE OR REPLACE FUNCTION events_include_text(p_provider text, p_number text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT v.events_include_text FROM voip_settings v
    WHERE (v.provider IN (p_provider, 'any') AND v.phone_number = p_number) OR (v.provider = 'any' AND v.phone_number = '*')
    ORDER BY (v.phone_number = '*'), (v.provider = 'any') LIMIT 1), false)
$$;
