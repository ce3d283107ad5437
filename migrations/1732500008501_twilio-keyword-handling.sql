-- How the Twilio number handles opt-out keywords, so the service confirms exactly what Twilio does not:
-- 'default'  Twilio's default handling: Twilio itself confirms its English keywords (STOP, STOPALL, UNSUBSCRIBE,
--            CANCEL, END, QUIT, REVOKE, OPTOUT; START, YES, UNSTOP) and answers HELP and INFO.
-- 'advanced' Advanced Opt-Out (Messaging Service): Twilio confirms what it handled and says so in OptOutType.
-- Ignored for VoIP.ms numbers (VoIP.ms confirms nothing: the service always does).
-- Up Migration
ALTER TABLE voip_settings
  ADD COLUMN twilio_keyword_handling text NOT NULL DEFAULT 'default'
  CHECK (twilio_keyword_handling IN ('default', 'advanced'));

-- Down Migration
ALTER TABLE voip_settings DROP COLUMN IF EXISTS twilio_keyword_handling;
