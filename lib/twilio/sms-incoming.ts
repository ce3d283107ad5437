import * as z from 'zod/mini';
import type { Params } from '../http/request.js';
import { optionalInt, sid } from './params.js';

export const smsIncomingSchema = z.object({
  MessageSid: sid('(SM|MM)'),
  From: z.string().check(z.minLength(1)),
  To: z.string().check(z.minLength(1)),
  Body: z._default(z.string(), ''),
  NumMedia: optionalInt,
  NumSegments: optionalInt,
  /** Advanced Opt-Out: Twilio already replied and (un)blocked the number itself. */
  OptOutType: z.optional(z.string()),
});
export type SmsIncomingParams = z.infer<typeof smsIncomingSchema>;

/** MediaUrl0..N in index order (NumMedia says how many; count what is there, Twilio caps at 10). */
export function mediaUrls(fields: Params): string[] {
  const urls: string[] = [];
  for (let i = 0; i < 20; i += 1) {
    const url = fields[`MediaUrl${i}`]?.[0];
    if (url === undefined) break;
    urls.push(url);
  }
  return urls;
}

/** The status-callback query of an auto-reply (lib/twilio/twiml.ts replyStatusCallback): the inbound MessageSid. */
export const replyQuerySchema = z.object({ reply: z.optional(sid('(SM|MM)')) });
