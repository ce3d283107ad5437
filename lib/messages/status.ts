import { defineAction } from '../ingest/action.js';

export interface MessageStatusEvent {
  provider: 'twilio' | 'voipms';
  providerMessageId: string;
  status: string;
  errorCode?: string;
  fromNumber: string;
  toNumber: string;
}

/** Provider error codes that mean "the recipient opted out": record it so we never text them again. */
const OPTED_OUT_ERRORS = new Set(['21610']);

/**
 * A delivery receipt for an outbound message. One statement: the row is created if we never saw the send,
 * the status only moves forward (message_status_rank), and an opted-out error records the opt-out.
 */
export const recordMessageStatus = defineAction('messages.status', async (db, event: MessageStatusEvent) => {
  const optedOut = event.errorCode !== undefined && OPTED_OUT_ERRORS.has(event.errorCode);
  await db.query(
    `WITH message AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status, error_code)
       VALUES ($1, $2, 'outbound', $3, $4, $5, $6)
       ON CONFLICT (provider, provider_message_id) DO UPDATE
         SET status = EXCLUDED.status, error_code = coalesce(EXCLUDED.error_code, sms_messages.error_code)
         WHERE message_status_rank(EXCLUDED.status) > message_status_rank(sms_messages.status)
       RETURNING id
     ), opt_out AS (
       INSERT INTO opt_outs (phone_number, keyword, provider)
       SELECT $4, 'error ' || $6, $1 WHERE $7::boolean
       ON CONFLICT (phone_number) DO NOTHING
     )
     SELECT count(*) AS changed FROM message`,
    [
      event.provider,
      event.providerMessageId,
      event.fromNumber,
      event.toNumber,
      event.status,
      event.errorCode ?? null,
      optedOut,
    ],
  );
});
