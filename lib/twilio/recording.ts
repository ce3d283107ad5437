import * as z from 'zod/mini';
import { optionalInt, sid } from './params.js';

export const RECORDING_STATUSES = ['in-progress', 'completed', 'absent', 'failed'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

export const recordingStatusSchema = z
  .object({
    AccountSid: z.optional(sid('AC')),
    RecordingSid: sid('RE'),
    RecordingStatus: z.enum(RECORDING_STATUSES),
    CallSid: z.optional(sid('CA')),
    RecordingUrl: z.optional(z.string()),
    RecordingDuration: optionalInt,
    RecordingChannels: optionalInt,
    RecordingSource: z.optional(z.string()),
    ErrorCode: z.optional(z.string()),
  })
  .check(
    // The URL names this recording of this account, or the worker would fetch (and delete) another one.
    z.refine(
      (params) =>
        params.RecordingUrl === undefined ||
        params.RecordingUrl.endsWith(
          params.AccountSid
            ? `/Accounts/${params.AccountSid}/Recordings/${params.RecordingSid}`
            : `/Recordings/${params.RecordingSid}`,
        ),
      { message: 'RecordingUrl does not name this recording', path: ['RecordingUrl'] },
    ),
  );
export type RecordingStatusParams = z.infer<typeof recordingStatusSchema>;

const GLOBAL_API_ORIGIN = 'https://api.twilio.com';

/**
 * The REST API hosts of Twilio's processing regions (api.<edge>.<region>.twilio.com, as Twilio's Regions
 * documentation names them): an account in IE1 or AU1 gets its recording URLs there, not on api.twilio.com.
 */
export const REGIONAL_API_HOSTS = [
  'api.dublin.ie1.twilio.com',
  'api.sydney.au1.twilio.com',
  'api.tokyo.jp1.twilio.com',
  'api.ashburn.us1.twilio.com',
  'api.umatilla.us1.twilio.com',
] as const;

/** Where a recording may be fetched from: the configured API origin, and the regional ones beside the global. */
export function recordingApiOrigins(apiBaseUrl: string): string[] {
  const origin = new URL(apiBaseUrl).origin;
  if (origin !== GLOBAL_API_ORIGIN) return [origin];
  return [origin, ...REGIONAL_API_HOSTS.map((host) => `https://${host}`)];
}

const RESOURCE = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Recordings\/(RE[0-9a-fA-F]{32})$/;

export interface RecordingOwner {
  apiBaseUrl: string;
  /** The account the URL must name (the configured one, when known). */
  accountSid?: string | undefined;
  /** The recording the URL must name (the callback's RecordingSid). */
  recordingSid?: string | undefined;
}

/**
 * The recording's REST resource, when `value` is exactly `<API origin>/2010-04-01/Accounts/<account>/
 * Recordings/<recording>`: compared as text, before any URL parser could collapse dot segments or decode an
 * escape, with no query, fragment, credentials or extension. Undefined otherwise.
 */
export function recordingResource(value: string, owner: RecordingOwner): string | undefined {
  for (const origin of recordingApiOrigins(owner.apiBaseUrl)) {
    if (!value.startsWith(`${origin}/`)) continue;
    const match = RESOURCE.exec(value.slice(origin.length));
    if (!match) return undefined;
    if (owner.accountSid && match[1] !== owner.accountSid) return undefined;
    if (owner.recordingSid && match[2] !== owner.recordingSid) return undefined;
    return value;
  }
  return undefined;
}

/**
 * Only recordings on the Twilio API host are ever fetched (with our credentials): a URL anywhere else, or
 * any other resource there, is refused, so a crafted callback cannot make the worker send the account's
 * credentials elsewhere or act on another resource.
 */
export function isTwilioApiUrl(value: string, apiBaseUrl: string): boolean {
  return recordingResource(value, { apiBaseUrl }) !== undefined;
}
