-- Up Migration

-- A transcription start is claimed in Postgres before Transcribe is asked: duplicate deliveries of one recording
-- job (provider redelivery, an SQS message received twice, two workers) used to race to StartTranscriptionJob,
-- the loser paying for a call Transcribe refuses (ConflictException). The claimer writes the recording's row as
-- 'starting' with a lease; a duplicate finds it and does nothing. The row then moves to 'in_progress' (or
-- 'failed'); a start that could not reach Transcribe deletes its claim, and one whose worker died is taken over
-- by the next attempt once the lease has run out (lib/transcription/start.ts), or released by the sweeper.
-- Lifecycle of `status`: starting → in_progress → completed | failed (disabled: no bucket, local runs).
ALTER TABLE transcriptions
  ADD COLUMN claimed_until timestamptz;

-- Down Migration
-- Code without claims takes any row as a started job: a claim still held would stop its start for good.
DELETE FROM transcriptions WHERE status = 'starting';
ALTER TABLE transcriptions DROP COLUMN IF EXISTS claimed_until;
