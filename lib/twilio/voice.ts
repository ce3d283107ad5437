import * as z from 'zod/mini';
import { optionalInt, sid } from './params.js';

/** Every CallStatus Twilio sends, in lifecycle order (terminal outcomes last). */
export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'failed',
  'no-answer',
  'canceled',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Outcomes of a call that nobody answered: the caller may get a missed-call text. */
export const MISSED_CALL_STATUSES: readonly CallStatus[] = ['no-answer', 'busy', 'canceled'];

/** DialCallStatus values of a `<Dial>` action request. */
export const DIAL_STATUSES = ['completed', 'answered', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export type DialStatus = (typeof DIAL_STATUSES)[number];
export const DIAL_ANSWERED: readonly string[] = ['completed', 'answered'];

/** Incoming call request: only CallSid is needed to keep a record; the rest helps when present. */
export const voiceIncomingSchema = z.object({
  CallSid: sid('CA'),
  From: z.optional(z.string()),
  To: z.optional(z.string()),
  CallerName: z.optional(z.string()),
  Direction: z.optional(z.string()),
  CallStatus: z.optional(z.string()),
  DialCallStatus: z.optional(z.enum(DIAL_STATUSES)),
  DialCallDuration: optionalInt,
  RecordingSid: z.optional(z.string()),
});
export type VoiceIncomingParams = z.infer<typeof voiceIncomingSchema>;

export const voiceStatusSchema = z.object({
  CallSid: sid('CA'),
  CallStatus: z.enum(CALL_STATUSES),
  From: z.optional(z.string()),
  To: z.optional(z.string()),
  CallerName: z.optional(z.string()),
  Direction: z.optional(z.string()),
  SequenceNumber: optionalInt,
  Timestamp: z.optional(z.string()),
  CallDuration: optionalInt,
  AnsweredBy: z.optional(z.string()),
  /** Not on every callback; Twilio prices are negative amounts (a charge). */
  Price: z.optional(z.string().check(z.regex(/^-?\d+(\.\d+)?$/))),
  PriceUnit: z.optional(z.string()),
});
export type VoiceStatusParams = z.infer<typeof voiceStatusSchema>;

/** Twilio's Timestamp is RFC 2822 ("Tue, 10 Mar 2026 14:03:01 +0000"); anything unreadable counts as absent. */
export function parseTwilioTimestamp(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
