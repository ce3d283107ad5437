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
 * A delivery receipt for an outbound message, in one statement (`store_message_status`, migrations/1732500009803).
 * The stored reply it belongs to is found by the callback's `?reply=` (Twilio TwiML replies, stored as
 * `reply:<inbound sid>`) or by the provider id already linked to it (provider_sent_ids: a later Twilio receipt
 * without `?reply=`, VoIP.ms part ids); that row takes the status and keeps the provider id, so one real message
 * stays one row. A row an earlier receipt made under the bare SID is folded into the reply. A receipt for anything
 * else creates or updates the row keyed by its own id, as before. The status only moves forward
 * (message_status_rank); an opted-out error records the opt-out.
 */
export const recordMessageStatus = defineAction('messages.status', async (db, event: MessageStatusEvent) => {
  const optedOut = event.errorCode !== undefined && OPTED_OUT_ERRORS.has(event.errorCode);
  const { rows } = await db.query<{ changed: number }>(
    'SELECT changed FROM store_message_status($1, $2, $3, $4, $5, $6, $7, $8) AS changed',
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
