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
 * The hot path, in one statement: store the inbound text (a repeat does nothing), read the sender's opt-out
 * state and pick the matching decision, apply an opt-out or opt-in, and store the reply row
 * (`reply:<inbound id>`): confirmations only when the opt-out state really changed, other replies only within
 * the rate limits (auto_reply_budget, updated under its row lock so concurrent deliveries respect them).
 * Only the delivery that stored the message can store a reply, so concurrent repeats answer at most once.
 */
export const recordInboundSms = defineAction('messages.inbound', async (db, event: InboundSmsEvent) => {
  const { subscribed, optedOut } = event.decision;
  const { rows } = await db.query<{
    stored: number;
    reply_id: number | null;
    reply_body: string | null;
    reply_intent: string | null;
  }>(
    `WITH prior AS (
       SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = $3) AS opted_out
     ), inbound AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         language, num_segments, num_media, media_urls)
       VALUES ($1, $2, 'inbound', $3, $4, $5, 'received', $6, $7, $8, $9::text[])
       ON CONFLICT (provider, provider_message_id) DO NOTHING
       RETURNING id
     ), chosen AS (
       SELECT p.opted_out, d.*
       FROM prior p, jsonb_to_record(CASE WHEN p.opted_out THEN $11::jsonb ELSE $10::jsonb END)
         AS d(intent text, language text, reply text, opt_out text, keyword text, confirmation boolean)
       WHERE EXISTS (SELECT 1 FROM inbound)
     ), opt_out AS (
       INSERT INTO opt_outs (phone_number, keyword, provider)
       SELECT $3, left(c.keyword, 40), $1 FROM chosen c WHERE c.opt_out = 'out'
       ON CONFLICT (phone_number) DO NOTHING
       RETURNING 1
     ), opt_in AS (
       DELETE FROM opt_outs WHERE phone_number = $3 AND EXISTS (SELECT 1 FROM chosen c WHERE c.opt_out = 'in')
       RETURNING 1
     ), budget AS (
       INSERT INTO auto_reply_budget AS b (phone_number, day, replies, last_by_intent)
       SELECT $3, $12::date, 1, jsonb_build_object(c.intent, now()) FROM chosen c
       WHERE c.reply IS NOT NULL AND NOT c.confirmation AND NOT c.opted_out
       ON CONFLICT (phone_number) DO UPDATE SET
         replies = CASE WHEN b.day = EXCLUDED.day THEN b.replies + 1 ELSE 1 END,
         day = EXCLUDED.day,
         last_by_intent = b.last_by_intent || EXCLUDED.last_by_intent,
         updated_at = now()
       WHERE (b.day <> EXCLUDED.day OR b.replies < $13)
         AND coalesce((b.last_by_intent ->> $14)::timestamptz, '-infinity') < now() - interval '${SAME_INTENT_WINDOW}'
       RETURNING 1
     ), reply AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         auto_response_intent, language, in_reply_to)
       SELECT $1, 'reply:' || $2, 'outbound', $4, $3, c.reply, $15, c.intent, c.language, i.id
       FROM chosen c, inbound i
       WHERE c.reply IS NOT NULL AND CASE
         WHEN c.confirmation AND c.opt_out = 'out' THEN EXISTS (SELECT 1 FROM opt_out)
         WHEN c.confirmation AND c.opt_out = 'in' THEN EXISTS (SELECT 1 FROM opt_in)
         ELSE EXISTS (SELECT 1 FROM budget) END
       ON CONFLICT (provider, provider_message_id) DO NOTHING
       RETURNING id, body, auto_response_intent
     ), unsent AS (
       -- A retry of a text whose reply is still waiting a minute on (its queueing failed, so the provider
       -- retried); a repeat arriving at the same moment as the first finds it freshly queued and leaves it.
       SELECT id, body, auto_response_intent FROM sms_messages
       WHERE provider = $1 AND provider_message_id = 'reply:' || $2 AND status = 'pending'
         AND created_at < now() - interval '1 minute' AND NOT EXISTS (SELECT 1 FROM inbound)
     )
     SELECT (SELECT count(*) FROM inbound)::int AS stored,
       r.id AS reply_id, r.body AS reply_body, r.auto_response_intent AS reply_intent
     FROM (SELECT 1) one LEFT JOIN (SELECT * FROM reply UNION ALL SELECT * FROM unsent) r ON true`,
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
