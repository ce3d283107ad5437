-- Up Migration

-- A delivery receipt that came before its send was recorded leaves a stray row, deleted when the receipt is folded
-- into the reply (store_message_status, the outbound worker's markSent). The in_reply_to foreign key
-- (ON DELETE SET NULL) then looks for texts replying to the deleted row: without an index that is a scan of every
-- text, tens of milliseconds at 300,000 texts and growing with the history. Only replies carry the column.
--
-- IF NOT EXISTS: the migration runner builds it first, CONCURRENTLY, so texts keep being stored while it builds;
-- here it is then found and left as it is (lib/db/migrate.ts).
CREATE INDEX IF NOT EXISTS sms_messages_in_reply_to_idx ON sms_messages (in_reply_to) WHERE in_reply_to IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS sms_messages_in_reply_to_idx;
