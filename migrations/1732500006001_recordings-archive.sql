-- Up Migration

-- Where Transcribe writes the transcript JSON (deleted with the recording by the retention purge),
-- and the call and caller the transcript belongs to, stamped when the transcript is written.
ALTER TABLE transcriptions
  ADD COLUMN output_key text,
  ADD COLUMN call_id bigint REFERENCES calls (id) ON DELETE SET NULL,
  ADD COLUMN caller_number text;

CREATE INDEX transcriptions_created_at_idx ON transcriptions (created_at);

-- Transcripts with their call, joined live: a call row that arrives after the transcript (VoIP.ms CDR poll)
-- still links up.
CREATE VIEW transcription_calls AS
  SELECT t.id AS transcription_id, t.recording_id, t.status, t.text, t.language, t.failure_reason,
    r.provider, r.provider_call_id, r.source, r.duration_seconds,
    coalesce(t.call_id, c.id) AS call_id,
    coalesce(t.caller_number, c.from_number) AS caller_number,
    c.to_number, c.started_at, t.created_at, t.updated_at
  FROM transcriptions t
  JOIN recordings r ON r.id = t.recording_id
  LEFT JOIN calls c ON c.provider = r.provider AND c.provider_call_id = r.provider_call_id;

-- One row per retention purge run: what it removed and up to when.
CREATE TABLE purge_log (
  id bigserial PRIMARY KEY,
  ran_at timestamptz NOT NULL DEFAULT now(),
  cutoff timestamptz NOT NULL,
  retention_days integer NOT NULL,
  recordings integer NOT NULL DEFAULT 0,
  transcriptions integer NOT NULL DEFAULT 0,
  objects integer NOT NULL DEFAULT 0,
  objects_failed integer NOT NULL DEFAULT 0,
  webhook_logs integer NOT NULL DEFAULT 0
);

-- Down Migration
DROP TABLE IF EXISTS purge_log;
DROP VIEW IF EXISTS transcription_calls;
DROP INDEX IF EXISTS transcriptions_created_at_idx;
ALTER TABLE transcriptions DROP COLUMN IF EXISTS caller_number, DROP COLUMN IF EXISTS call_id,
  DROP COLUMN IF EXISTS output_key;
