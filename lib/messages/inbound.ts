import { defineAction } from '../ingest/action.js';
import type { AutoReplyDecision } from './auto-reply.js';

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
}

export interface InboundSmsResult {
  /** False for a repeated delivery: the message was already stored. */
  stored: boolean;
  /** The auto-reply to answer with, only for the delivery that stored it. */
  reply: string | null;
}

/**
 * One statement for the hot path: store the inbound text (a repeat does nothing), apply an opt-out change,
 * and store the reply row (`reply:<inbound id>`) unless the sender opted out. Only the delivery that stored
 * the message can store a reply, so concurrent repeats answer at most once.
 */
export const recordInboundSms = defineAction('messages.inbound', async (db, event: InboundSmsEvent) => {
  const { decision } = event;
  const { rows } = await db.query<{ stored: number; replied: number }>(
    `WITH inbound AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         language, num_segments, num_media, media_urls)
       VALUES ($1, $2, 'inbound', $3, $4, $5, 'received', $6, $7, $8, $9::text[])
       ON CONFLICT (provider, provider_message_id) DO NOTHING
       RETURNING id
     ), opted_out AS (
       INSERT INTO opt_outs (phone_number, keyword, provider)
       SELECT $3, $10, $1 FROM inbound WHERE $11::text = 'out'
       ON CONFLICT (phone_number) DO NOTHING
     ), opted_in AS (
       DELETE FROM opt_outs WHERE phone_number = $3 AND $11::text = 'in' AND EXISTS (SELECT 1 FROM inbound)
     ), reply AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         auto_response_intent, language, in_reply_to)
       SELECT $1, 'reply:' || $2, 'outbound', $4, $3, $12, 'queued', $13, $6, inbound.id FROM inbound
       WHERE $12::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = $3)
       ON CONFLICT (provider, provider_message_id) DO NOTHING
       RETURNING id
     )
     SELECT (SELECT count(*) FROM inbound)::int AS stored, (SELECT count(*) FROM reply)::int AS replied`,
    [
      event.provider,
      event.providerMessageId,
      event.fromNumber,
      event.toNumber,
      event.body,
      decision.language,
      event.numSegments,
      Math.max(event.numMedia, event.mediaUrls.length),
      event.mediaUrls,
      decision.keyword,
      decision.optOut,
      decision.reply,
      decision.intent,
    ],
  );
  const row = rows[0];
  return {
    stored: Boolean(row?.stored),
    reply: row?.replied ? decision.reply : null,
  } satisfies InboundSmsResult;
});
