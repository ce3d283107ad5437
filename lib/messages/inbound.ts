import { defineAction } from '../ingest/action.js';
import { countMetric } from '../observability.js';
import { sendMessage } from '../queue/index.js';
import type { AutoReplyDecision } from './auto-reply.js';

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
  /** Today in the office's time zone (YYYY-MM-DD): the daily cap counts office days. */
  officeDay: string;
}

export interface StoredReply {
  id: number;
  body: string;
  intent: string;
}

export interface InboundSmsResult {
  /** False for a repeated delivery: the message was already stored. */
  stored: boolean;
  /** The reply stored by this delivery (at most one per inbound message), or null. */
  reply: StoredReply | null;
}

/** Twilio replies travel in the TwiML answer itself; VoIP.ms replies wait as 'pending' rows for the worker. */
const REPLY_STATUS = { twilio: 'queued', voipms: 'pending' } as const;

/**
 * The hot path, in one statement (`store_inbound_sms`, migrations/1732500007003): store the inbound text (a
 * repeat does nothing), read the sender's opt-out state and pick the matching decision, apply an opt-out or
 * opt-in, and store the reply row (`reply:<inbound id>`): confirmations only when the opt-out state really
 * changed, other replies only within the rate limits (auto_reply_budget, updated under its row lock so
 * concurrent deliveries respect them). Only the delivery that stored the message can store a reply, so
 * concurrent repeats answer at most once.
 */
export const recordInboundSms = defineAction('messages.inbound', async (db, event: InboundSmsEvent) => {
  const { subscribed, optedOut } = event.decision;
  const { rows } = await db.query<{
    stored: number;
    reply_id: number | null;
    reply_body: string | null;
    reply_intent: string | null;
  }>(
    'SELECT * FROM store_inbound_sms($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)',
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
      REPLY_STATUS[event.provider],
    ],
  );
  const row = rows[0];
  const reply =
    row?.reply_id == null
      ? null
      : { id: Number(row.reply_id), body: row.reply_body ?? '', intent: row.reply_intent ?? 'default' };
  if (!row?.stored) countMetric('DuplicateDelivery', { route: `${event.provider}/sms/incoming` });
  if (reply) {
    if (row?.stored) countMetric('AutoReplySent', { intent: reply.intent });
    // VoIP.ms has no reply channel in the callback: the stored row is sent by the outbound worker. Queued here,
    // inside the action, so a text written later by the ingest worker gets its reply too; a repeat queues a
    // reply still pending again (the worker sends a row once, whoever asks).
    if (event.provider === 'voipms') await queueVoipmsReply(event, reply);
  }
  // A repeat answers nothing itself (Twilio: the reply went out with the first answer).
  return { stored: Boolean(row?.stored), reply: row?.stored ? reply : null } satisfies InboundSmsResult;
});

/** What the outbound-sms queue receives for a VoIP.ms text whose row is already stored (status 'pending'). */
export interface VoipmsOutboundJob {
  provider: 'voipms';
  /** sms_messages.id of the pending outbound row. */
  messageId: number;
  to: string;
  from: string;
  body: string;
  kind: 'auto-reply' | 'opt-out-confirmation' | 'opt-in-confirmation';
}

const KIND: Record<string, VoipmsOutboundJob['kind']> = {
  opt_out: 'opt-out-confirmation',
  opt_in: 'opt-in-confirmation',
};

async function queueVoipmsReply(event: InboundSmsEvent, reply: StoredReply): Promise<void> {
  const job: VoipmsOutboundJob = {
    provider: 'voipms',
    messageId: reply.id,
    to: event.fromNumber,
    from: event.toNumber,
    body: reply.body,
    kind: KIND[reply.intent] ?? 'auto-reply',
  };
  await sendMessage('outboundSms', job);
}
