-- Up Migration

-- How the incoming-call webhook routed a call and what the <Dial> to the office line ended as: together with
-- the final CallStatus they tell an answered call from a missed one (Twilio answers every inbound call it
-- runs TwiML for, so the parent call ends `completed` either way).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS route text;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS dial_status text;
-- Why we sent a text we started ourselves (e.g. 'missed-call'); auto-replies keep auto_response_intent.
ALTER TABLE sms_messages ADD COLUMN IF NOT EXISTS kind text;

-- Down Migration
ALTER TABLE sms_messages DROP COLUMN IF EXISTS kind;
ALTER TABLE calls DROP COLUMN IF EXISTS dial_status;
ALTER TABLE calls DROP COLUMN IF EXISTS route;
