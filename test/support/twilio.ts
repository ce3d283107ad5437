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

const CALLER = '+14155550123';

/** Incoming call, as Twilio asks for instructions (CallStatus ringing). */
export const twilioVoiceIncomingParams = (overrides: TwilioParams = {}): TwilioParams => {
  const sid = fakeSid('CA');
  return {
    ...base(),
    CallSid: sid,
    From: CALLER,
    To: PRACTICE_TWILIO_NUMBER,
    Caller: CALLER,
    Called: PRACTICE_TWILIO_NUMBER,
    CallStatus: 'ringing',
    Direction: 'inbound',
    CallToken: '%7B%22parentCallInfoToken%22%3A%22eyJ%22%7D',
    StirVerstat: 'TN-Validation-Passed-A',
    FromCity: 'SAN FRANCISCO',
    FromState: 'CA',
    FromZip: '94103',
    FromCountry: 'US',
    ToCity: '',
    ToState: 'NY',
    ToZip: '',
    ToCountry: 'US',
    CallerCity: 'SAN FRANCISCO',
    CallerState: 'CA',
    CallerZip: '94103',
    CallerCountry: 'US',
    CalledCity: '',
    CalledState: 'NY',
    CalledZip: '',
    CalledCountry: 'US',
    ...overrides,
  };
};

export const twilioVoiceIncomingEvent = (overrides: TwilioParams = {}, options?: SignedOptions) =>
  signedTwilioEvent('/webhooks/twilio/voice/incoming', twilioVoiceIncomingParams(overrides), options);

/** The `<Dial>` action request: the incoming call's parameters plus the Dial outcome. */
export const twilioDialResultParams = (overrides: TwilioParams = {}): TwilioParams =>
  twilioVoiceIncomingParams({
    CallStatus: 'in-progress',
    DialCallStatus: 'no-answer',
    DialCallSid: fakeSid('CA'),
    DialCallDuration: '0',
    DialBridged: 'false',
    ...overrides,
  });

/** The voicemail `<Record>` action request. */
export const twilioRecordActionParams = (overrides: TwilioParams = {}): TwilioParams =>
  twilioVoiceIncomingParams({
    CallStatus: 'in-progress',
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${fakeSid('RE')}`,
    RecordingSid: fakeSid('RE'),
    RecordingDuration: '14',
    Digits: 'hangup',
    ...overrides,
  });

/** Call status callback (call-progress-events). */
export const twilioVoiceStatusParams = (overrides: TwilioParams = {}): TwilioParams => {
  const status = (overrides.CallStatus as string | undefined) ?? 'completed';
  return {
    ...twilioVoiceIncomingParams(),
    CallStatus: status,
    CallbackSource: 'call-progress-events',
    Timestamp: 'Tue, 10 Mar 2026 14:03:01 +0000',
    SequenceNumber: '0',
    ...(status === 'completed' ? { CallDuration: '42', Duration: '1' } : {}),
    ...overrides,
  };
};

export const twilioVoiceStatusEvent = (overrides: TwilioParams = {}, options?: SignedOptions) =>
  signedTwilioEvent('/webhooks/twilio/voice/status', twilioVoiceStatusParams(overrides), options);

/** Incoming SMS/MMS. */
export const twilioSmsIncomingParams = (overrides: TwilioParams = {}): TwilioParams => {
  const sid = fakeSid('SM');
  return {
    ...base(),
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    From: CALLER,
    To: PRACTICE_TWILIO_NUMBER,
    Body: 'Hello',
    NumMedia: '0',
    NumSegments: '1',
    SmsStatus: 'received',
    FromCity: 'SAN FRANCISCO',
    FromState: 'CA',
    FromZip: '94103',
    FromCountry: 'US',
    ToCity: '',
    ToState: 'NY',
    ToZip: '',
    ToCountry: 'US',
    ...overrides,
  };
};

export const twilioSmsIncomingEvent = (overrides: TwilioParams = {}, options?: SignedOptions) =>
  signedTwilioEvent('/webhooks/twilio/sms/incoming', twilioSmsIncomingParams(overrides), options);

/** Recording status callback. */
export const twilioRecordingStatusParams = (overrides: TwilioParams = {}): TwilioParams => {
  // The URL names the recording, as Twilio's does (the route refuses one naming another recording).
  const sid = typeof overrides.RecordingSid === 'string' ? overrides.RecordingSid : fakeSid('RE');
  return {
    ...base(),
    CallSid: fakeSid('CA'),
    RecordingSid: sid,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${sid}`,
    RecordingStatus: 'completed',
    RecordingDuration: '37',
    RecordingChannels: '2',
    RecordingStartTime: 'Tue, 10 Mar 2026 14:02:24 +0000',
    RecordingSource: 'DialVerb',
    RecordingTrack: 'both',
    ErrorCode: '0',
    ...overrides,
  };
};

export const twilioRecordingStatusEvent = (overrides: TwilioParams = {}, options?: SignedOptions) =>
  signedTwilioEvent('/webhooks/twilio/recording/status', twilioRecordingStatusParams(overrides), options);

/** A parsed XML element: enough to check TwiML structurally. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (value: string) =>
  value.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    const named = ENTITIES[entity];
    if (named === undefined) throw new Error(`unknown entity ${whole}`);
    return named;
  });

/**
 * A strict little XML parser for TwiML: one root, elements, attributes, text and the five entities.
 * Throws on anything malformed (unclosed or mismatched tags, raw `<` or `&` in text).
 */
export function parseXml(xml: string): XmlElement {
  const source = xml.replace(/^<\?xml[^?]*\?>/, '');
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`invalid XML at ${at}: ${why}`);
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<]*")*)\s*(\/?)>/.exec(source.slice(at));
    if (!open) return fail('expected a start tag');
    at += open[0].length;
    const attributes: Record<string, string> = {};
    for (const [, key, value] of open[2]!.matchAll(/([A-Za-z][\w.-]*)="([^"<]*)"/g)) {
      attributes[key!] = unescapeXml(value!);
    }
    const node: XmlElement = { name: open[1]!, attributes, children: [], text: '' };
    if (open[3]) return node;
    for (;;) {
      const close = `</${node.name}>`;
      if (source.startsWith(close, at)) {
        at += close.length;
        return node;
      }
      if (source.startsWith('</', at)) return fail(`mismatched end tag, expected ${close}`);
      if (source[at] === '<') {
        node.children.push(element());
        continue;
      }
      const end = source.indexOf('<', at);
      if (end < 0) return fail(`unclosed <${node.name}>`);
      const raw = source.slice(at, end);
      if (/&(?!(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);)/i.test(raw)) fail('bare & in text');
      node.text += unescapeXml(raw);
      at = end;
    }
  };
  const root = element();
  if (source.slice(at).trim() !== '') fail('content after the root element');
  return root;
}
