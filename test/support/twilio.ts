import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { PRACTICE_TWILIO_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_BASE_URL } from './config.js';
import { httpEvent } from './events.js';

export type TwilioParams = Record<string, string | string[]>;

let counter = 0;
/** A unique Twilio-shaped SID with the given prefix (SM, CA, RE…). */
export function fakeSid(prefix: string): string {
  counter += 1;
  return `${prefix}${(Date.now().toString(16) + counter.toString(16).padStart(8, '0')).padStart(32, '0').slice(-32)}`;
}

export function encodeForm(params: TwilioParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
  }
  return search.toString();
}

export interface SignedOptions {
  rawQuery?: string;
  authToken?: string;
  baseUrl?: string;
  /** Sign a URL other than the one requested (replay tests). */
  signedPath?: string;
  headers?: Record<string, string>;
  signature?: string;
}

/** A Twilio webhook as Twilio sends it: form body (base64 through HTTP API) and X-Twilio-Signature. */
export function signedTwilioEvent(path: string, params: TwilioParams, options: SignedOptions = {}) {
  const { rawQuery = '', authToken = TEST_AUTH_TOKEN, baseUrl = TEST_BASE_URL } = options;
  const url = `${baseUrl}${options.signedPath ?? path}${rawQuery ? `?${rawQuery}` : ''}`;
  const signature = options.signature ?? getExpectedTwilioSignature(authToken, url, params);
  return httpEvent({
    path,
    rawQuery,
    body: encodeForm(params),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'user-agent': 'TwilioProxy/1.1',
      ...options.headers,
    },
    sourceIp: '54.172.60.1',
  });
}

const base = () => ({ AccountSid: TEST_ACCOUNT_SID, ApiVersion: '2010-04-01' });

export const twilioSmsStatusParams = (overrides: TwilioParams = {}): TwilioParams => {
  const sid = fakeSid('SM');
  return {
    ...base(),
    MessageSid: sid,
    SmsSid: sid,
    MessageStatus: 'delivered',
    SmsStatus: 'delivered',
    From: PRACTICE_TWILIO_NUMBER,
    To: '+14155550123',
    ...overrides,
  };
};

export const twilioSmsStatusEvent = (overrides: TwilioParams = {}, options?: SignedOptions) =>
  signedTwilioEvent('/webhooks/twilio/sms/status', twilioSmsStatusParams(overrides), options);
