-- Up Migration

-- The language Amazon Transcribe is told for a practice number's recordings. PII redaction needs a given
-- language (en-US or es-US) and cannot be combined with language identification; NULL means "the language
-- the caller writes in" (their recent texts), else en-US.
ALTER TABLE voip_settings
  ADD COLUMN transcription_language text CHECK (transcription_language IN ('en-US', 'es-US'));

-- Down Migration
ALTER TABLE voip_settings DROP COLUMN IF EXISTS transcription_language;
