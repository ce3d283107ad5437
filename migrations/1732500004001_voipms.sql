-- Up Migration

-- VoIP.ms answers each sendSMS/sendMMS part with its own id; our row keeps its own unique key
-- (`reply:<inbound id>`) so a redelivered job finds it, and the provider's ids go here.
ALTER TABLE sms_messages ADD COLUMN IF NOT EXISTS provider_sent_ids text[];
-- getCallRecording needs the (sub-)account the recording belongs to.
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS provider_account text;
-- VoIP.ms CDR disposition as sent (ANSWERED, NO ANSWER, ...), beside the mapped status.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS disposition text;

-- Down Migration
ALTER TABLE calls DROP COLUMN IF EXISTS disposition;
ALTER TABLE recordings DROP COLUMN IF EXISTS provider_account;
ALTER TABLE sms_messages DROP COLUMN IF EXISTS provider_sent_ids;
