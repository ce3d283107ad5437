import * as z from 'zod/mini';
import { optionalInt, sid } from './params.js';

export const RECORDING_STATUSES = ['in-progress', 'completed', 'absent', 'failed'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

export const recordingStatusSchema = z.object({
  RecordingSid: sid('RE'),
  RecordingStatus: z.enum(RECORDING_STATUSES),
  CallSid: z.optional(sid('CA')),
  RecordingUrl: z.optional(z.string()),
  RecordingDuration: optionalInt,
  RecordingChannels: optionalInt,
  RecordingSource: z.optional(z.string()),
  ErrorCode: z.optional(z.string()),
});
export type RecordingStatusParams = z.infer<typeof recordingStatusSchema>;

/**
 * Only recordings on the configured Twilio API host are ever fetched (with our credentials): a URL anywhere
 * else is refused, so a crafted callback cannot make the worker send the account's credentials elsewhere.
 */
export function isTwilioApiUrl(value: string, apiBaseUrl: string): boolean {
  try {
    const url = new URL(value);
    const base = new URL(apiBaseUrl);
    return url.origin === base.origin && !url.username && !url.password;
  } catch {
    return false;
  }
}
