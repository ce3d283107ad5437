import { defineAction } from '../ingest/action.js';
import { countMetric } from '../observability.js';
import type { AutoReplyDecision } from './auto-reply.js';
import { handOnTexts } from './outbound.js';

/** Auto-replies one number may receive per office day, whatever it writes (loop guard against other bots). */
export const DAILY_REPLY_CAP = 6;
/** One reply per intent per number within this window. */
export const SAME_INTENT_WINDOW = '10 minutes';

export interface InboundSmsEvent {
  provider: 'twilio' | 'voipms';
  providerMessageId: string;
  fromNumber: string;
  toNumber: string;
  body: string;
  numSegments: number | null;
  numMedia: number;
  mediaUrls: string[];
  decision: AutoReplyDecision;
  /** The office day (YYYY-MM-DD) when the text reached us: the daily cap counts office days. */
  officeDay: string;
  /** ISO time of the message: the provider's own when it gives one, else when it first reached us. */
  sentAt: string;
  /** Whether `sms.received` carries the text, from the practice settings; absent: the statement looks it up. */
  eventText?: boolean;
}

export interface StoredReply {
  id: number;
  body: string;
  intent: string;
}

export interface InboundSmsResult {
  /** False for a repeated delivery: the message was already stored. */
  stored: boolean;
  /** The reply to answer in TwiML, stored by this delivery (at most one per inbound message), or null. */
  reply: StoredReply | null;
}

/**
 * A Twilio reply rides on the TwiML answer ('queued'); when that answer cannot carry it (the text is written by
 * the ingest worker after an outage) it waits as 'pending' for the outbound worker, as VoIP.ms replies always do.
 */
function replyStatus(event: InboundSmsEvent, replay: boolean): 'queued' | 'pending' {
  return event.provider === 'twilio' && !replay ? 'queued' : 'pending';
}

/**
 * The hot path, in one statement (`store_inbound_sms`, migrations/1732500008001): store the inbound text (a
 * repeat does nothing), read the sender's opt-out state and pick the matching decision, apply an opt-out or
 * opt-in in the order the patient sent them, and store the reply row (`reply:<inbound id>`): confirmations only
 * when the opt-out state really changed, other replies only within the rate limits (auto_reply_budget, updated
 * under its row lock so concurrent deliveries respect them). Only the delivery that stored the message can store
 * a reply, so concurrent repeats answer at most once. A reply that must be sent (not answered in TwiML) is a
 * 'pending' row: handed to the outbound worker now, and by the follow-up relay if that fails.
 */
export const recordInboundSms = defineAction(
  'messages.inbound',
  async (db, event: InboundSmsEvent, context): Promise<InboundSmsResult> => {
    const { subscribed, optedOut } = event.decision;
    const { rows } = await db.query<{
      stored: number;
      reply_id: number | null;
      reply_body: string | null;
      reply_intent: string | null;
      reply_status: string | null;
    }>(
      `SELECT stored, reply_id, reply_body, reply_intent, reply_status
       FROM store_inbound_sms($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
      [
        event.provider,
        event.providerMessageId,
        event.fromNumber,
        event.toNumber,
        event.body,
        subscribed.language,
        event.numSegments,
        Math.max(event.numMedia, event.mediaUrls.length),
        event.mediaUrls,
        JSON.stringify(subscribed),
        JSON.stringify(optedOut),
        event.officeDay,
        DAILY_REPLY_CAP,
        subscribed.intent,
        SAME_INTENT_WINDOW,
        replyStatus(event, context.replay),
        event.sentAt,
        context.replay,
        event.eventText ?? null,
      ],
    );
    const row = rows[0];
    const reply =
      row?.reply_id == null
        ? null
        : { id: Number(row.reply_id), body: row.reply_body ?? '', intent: row.reply_intent ?? 'default' };
    if (!row?.stored) countMetric('DuplicateDelivery', { route: `${event.provider}/sms/incoming` });
    if (reply && row?.stored) countMetric('AutoReplySent', { intent: reply.intent });
    if (reply && row?.reply_status === 'pending')
      await handOnTexts([{ provider: event.provider, messageId: reply.id }]);
    // Only a reply still to be answered in TwiML is returned: a repeat answers nothing itself.
    return {
      stored: Boolean(row?.stored),
      reply: reply && row?.stored && row.reply_status === 'queued' ? reply : null,
    };
  },
);
