import * as z from 'zod/mini';
import { sid } from './params.js';

/** Every MessageStatus Twilio sends on a status callback. */
export const MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'receiving',
  'received',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'canceled',
] as const;

export const smsStatusSchema = z.object({
  MessageSid: sid('(SM|MM)'),
  MessageStatus: z.enum(MESSAGE_STATUSES),
  From: z.optional(z.string()),
  To: z.optional(z.string()),
  ErrorCode: z.optional(z.string()),
});
export type SmsStatusParams = z.infer<typeof smsStatusSchema>;
