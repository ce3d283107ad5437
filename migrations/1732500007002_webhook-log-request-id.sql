-- Up Migration

-- One row per request: a log row deferred while Postgres was down and delivered twice is kept once, and a
-- row written with the handler's statement can be corrected by request id.
CREATE UNIQUE INDEX webhook_logs_request_id_key ON webhook_logs (request_id);

-- Down Migration
DROP INDEX IF EXISTS webhook_logs_request_id_key;
