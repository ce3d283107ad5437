-- Up Migration

-- A request's webhook_logs row as a function, so it can ride on a statement that is itself one function call
-- (`SELECT … FROM store_inbound_sms(…), write_webhook_log(…)`, lib/http/log-row.ts): Postgres then plans two
-- function calls instead of analysing an INSERT … ON CONFLICT in a WITH clause on every webhook, and the INSERT
-- inside is planned once per session. One row per request: a second write of the same request id does nothing.
CREATE FUNCTION write_webhook_log(
  p_provider text, p_endpoint text, p_method text, p_status_code integer, p_signature_valid boolean,
  p_source_ip text, p_duration_ms numeric, p_payload jsonb, p_error text, p_request_id text,
  p_idempotency_token text, p_raw_request_hex text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_logs (provider, endpoint, method, status_code, signature_valid, source_ip, duration_ms, payload,
    error, request_id, idempotency_token, raw_request_encrypted)
  VALUES (p_provider, p_endpoint, p_method, p_status_code, p_signature_valid, p_source_ip, p_duration_ms, p_payload,
    p_error, p_request_id, p_idempotency_token, decode(p_raw_request_hex, 'hex'))
  ON CONFLICT (request_id) DO NOTHING;
END $$;

-- Down Migration
DROP FUNCTION write_webhook_log(text, text, text, integer, boolean, text, numeric, jsonb, text, text, text, text);
