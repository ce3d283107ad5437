import { defineAction } from '../ingest/action.js';

export interface MessageStatusEvent {
  provider: 'twilio' | 'voipms';
  /** The provider's id of the message the receipt is about (Twilio MessageSid, VoIP.ms sms id). */
  providerMessageId: string;
  status: string;
  errorCode?: string;
  fromNumber: string;
  toNumber: string;
  /** Twilio auto-replies sent in TwiML: the inbound MessageSid the reply answers (`?reply=` on the callback). */
  replyTo?: string;
}

/** Provider error codes that mean "the recipient opted out": record it so we never text them again. */
const OPTED_OUT_ERRORS = new Set(['21610']);

/**
 * VoIP.ms `getSMS` gives each message a free-text `carrier_status` ("Information not available" when the carrier
 * reported nothing). Only a clear delivered or failed word moves a reply on; anything else tells nothing.
 */
export function voipmsCarrierStatus(
  carrierStatus: string | undefined,
): 'delivered' | 'undelivered' | undefined {
  const text = (carrierStatus ?? '').toLowerCase();
  if (/\b(undeliver\w*|not delivered|fail\w*|reject\w*|expired)\b/.test(text)) return 'undelivered';
  if (/\bdelivered\b/.test(text)) return 'delivered';
  return undefined;
}

/**
 * A delivery receipt for an outbound message, in one statement. The stored reply it belongs to is found by the
 * callback's `?reply=` (Twilio TwiML replies, stored as `reply:<inbound sid>`) or by the provider id already
 * linked to it (provider_sent_ids: a later Twilio receipt without `?reply=`, VoIP.ms part ids); that row takes
 * the status and keeps the provider id, so one real message stays one row. A row an earlier receipt made under
 * the bare SID is folded into the reply. A receipt for anything else creates or updates the row keyed by its
 * own id, as before. The status only moves forward (message_status_rank); an opted-out error records the opt-out.
 */
export const recordMessageStatus = defineAction('messages.status', async (db, event: MessageStatusEvent) => {
  const optedOut = event.errorCode !== undefined && OPTED_OUT_ERRORS.has(event.errorCode);
  const { rows } = await db.query<{ changed: number }>(
    `WITH reply AS (
       SELECT id FROM sms_messages
       WHERE provider = $1 AND direction = 'outbound'
         AND (provider_message_id = 'reply:' || $8::text OR provider_sent_ids @> ARRAY[$2::text])
       ORDER BY provider_message_id = 'reply:' || $8::text DESC NULLS LAST
       LIMIT 1
     ), stray AS (
       DELETE FROM sms_messages s
       WHERE s.provider = $1 AND s.provider_message_id = $2 AND s.direction = 'outbound' AND s.body IS NULL
         AND s.auto_response_intent IS NULL AND EXISTS (SELECT 1 FROM reply r WHERE r.id <> s.id)
       RETURNING s.status, s.error_code
     ), best AS (
       SELECT st AS status FROM (SELECT $5::text AS st UNION ALL SELECT status FROM stray) candidates
       ORDER BY message_status_rank(st) DESC LIMIT 1
     ), linked AS (
       UPDATE sms_messages m SET
         status = CASE WHEN message_status_rank(b.status) > message_status_rank(m.status) THEN b.status ELSE m.status END,
         error_code = coalesce($6, (SELECT error_code FROM stray LIMIT 1), m.error_code),
         provider_sent_ids = CASE WHEN m.provider_sent_ids @> ARRAY[$2::text] THEN m.provider_sent_ids
                                  ELSE coalesce(m.provider_sent_ids, '{}') || $2::text END
       FROM reply r, best b
       WHERE m.id = r.id AND (message_status_rank(b.status) > message_status_rank(m.status)
         OR NOT coalesce(m.provider_sent_ids @> ARRAY[$2::text], false))
       RETURNING m.id
     ), message AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status, error_code)
       SELECT $1, $2, 'outbound', $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM reply)
       ON CONFLICT (provider, provider_message_id) DO UPDATE
         SET status = EXCLUDED.status, error_code = coalesce(EXCLUDED.error_code, sms_messages.error_code)
         WHERE message_status_rank(EXCLUDED.status) > message_status_rank(sms_messages.status)
       RETURNING id
     ), opt_out AS (
       INSERT INTO opt_outs (phone_number, keyword, provider)
       SELECT $4, 'error ' || $6, $1 WHERE $7::boolean
       ON CONFLICT (phone_number) DO NOTHING
     )
     SELECT ((SELECT count(*) FROM linked) + (SELECT count(*) FROM message))::int AS changed`,
    [
      event.provider,
      event.providerMessageId,
      event.fromNumber,
      event.toNumber,
      event.status,
      event.errorCode ?? null,
      optedOut,
      event.replyTo ?? null,
    ],
  );
  return { changed: rows[0]?.changed ?? 0 };
});
