import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

/** Short route names the CLI takes, e.g. `twilio/sms/incoming`. */
export const SIMULATED_ROUTES = [
  'twilio/voice/incoming',
  'twilio/voice/status',
  'twilio/sms/incoming',
  'twilio/sms/status',
  'twilio/recording/status',
  'voipms/sms/incoming',
  'voipms/call/cdr',
  'voipms/recording/ready',
] as const;
export type SimulatedRoute = (typeof SIMULATED_ROUTES)[number];

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const ACCOUNT = `AC${'0'.repeat(32)}`;

/** A realistic default payload for each route, in the provider's own field names; CLI fields override them. */
function defaults(route: SimulatedRoute, callSid: string, practice: PracticeNumbers): Record<string, string> {
  const caller = '+14155550123';
  const common = { AccountSid: practice.accountSid ?? ACCOUNT, ApiVersion: '2010-04-01' };
  switch (route) {
    case 'twilio/voice/incoming':
      return {
        ...common,
        CallSid: callSid,
        From: caller,
        To: practice.twilioNumber,
        Caller: caller,
        Called: practice.twilioNumber,
        CallStatus: 'ringing',
        Direction: 'inbound',
      };
    case 'twilio/voice/status':
      return {
        ...common,
        CallSid: callSid,
        From: caller,
        To: practice.twilioNumber,
        CallStatus: 'completed',
        Direction: 'inbound',
        CallDuration: '42',
        SequenceNumber: '3',
        Timestamp: new Date().toUTCString(),
        CallbackSource: 'call-progress-events',
      };
    case 'twilio/sms/incoming': {
      const message = sid('SM');
      return {
        ...common,
        MessageSid: message,
        SmsSid: message,
        SmsMessageSid: message,
        From: caller,
        To: practice.twilioNumber,
        Body: 'Hi, can I book an appointment for Thursday?',
        NumMedia: '0',
        NumSegments: '1',
        SmsStatus: 'received',
      };
    }
    case 'twilio/sms/status': {
      const message = sid('SM');
      return {
        ...common,
        MessageSid: message,
        SmsSid: message,
        MessageStatus: 'delivered',
        SmsStatus: 'delivered',
        From: practice.twilioNumber,
        To: caller,
      };
    }
    case 'twilio/recording/status': {
      const recording = sid('RE');
      const apiBase = practice.twilioApiBaseUrl;
      return {
        ...common,
        CallSid: callSid,
        RecordingSid: recording,
        RecordingStatus: 'completed',
        RecordingDuration: '17',
        RecordingChannels: '1',
        RecordingSource: 'DialVerb',
        RecordingStartTime: new Date().toUTCString(),
        ErrorCode: '0',
        RecordingUrl: `${apiBase}/2010-04-01/Accounts/${common.AccountSid}/Recordings/${recording}`,
      };
    }
    case 'voipms/sms/incoming':
      return {
        to: practice.voipmsDid,
        from: '5145551234',
        message: 'What time do you close today?',
        id: String(Date.now()),
        date: new Date().toISOString().replace('T', ' ').slice(0, 19),
      };
    case 'voipms/call/cdr':
      return {
        date: new Date().toISOString().replace('T', ' ').slice(0, 19),
        callerid: '"Pat Doe" <5145551234>',
        destination: practice.voipmsDid,
        description: 'Inbound - Local Caller',
        account: '100000_Main',
        disposition: 'ANSWERED',
        duration: '00:01:05',
        seconds: '65',
        rate: '0.0100',
        total: '0.0110',
        uniqueid: String(Date.now()),
      };
    case 'voipms/recording/ready':
      return {
        callrecording: randomBytes(12).toString('base64url'),
        account: '100000_Main',
        date: new Date().toISOString(),
      };
  }
}

/** The practice's side of the simulated traffic, from the configuration. */
export interface PracticeNumbers {
  accountSid?: string;
  twilioNumber: string;
  twilioApiBaseUrl: string;
  voipmsDid: string;
}

const EXAMPLE_PRACTICE: PracticeNumbers = {
  twilioNumber: '+15005550006',
  twilioApiBaseUrl: 'https://api.twilio.com',
  voipmsDid: '5145550000',
};

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

export interface SimulatedRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Builds the request the provider would send: Twilio routes as a signed form POST (TWILIO_AUTH_TOKEN over the
 * public URL), VoIP.ms routes with the token in the query string (SMS as GET, like VoIP.ms's URL callback).
 */
export function buildSimulatedRequest(
  route: SimulatedRoute,
  fields: Record<string, string>,
  options: {
    baseUrl: string;
    signingBaseUrl?: string;
    authToken?: string;
    voipmsToken?: string;
    method?: 'GET' | 'POST';
    /** The practice's numbers and Twilio API host, from the configuration; unset parts use examples. */
    practice?: Partial<PracticeNumbers>;
  },
): SimulatedRequest {
  const path = `/webhooks/${route}`;
  const practice = { ...EXAMPLE_PRACTICE, ...definedOnly(options.practice ?? {}) };
  const params = { ...defaults(route, fields.CallSid ?? sid('CA'), practice), ...fields };
  if (route.startsWith('twilio/')) {
    if (!options.authToken) throw new Error('TWILIO_AUTH_TOKEN is needed to sign Twilio requests');
    const signingUrl = `${options.signingBaseUrl ?? options.baseUrl}${path}`;
    return {
      method: 'POST',
      url: `${options.baseUrl}${path}`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(options.authToken, signingUrl, params),
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
      },
      body: new URLSearchParams(params).toString(),
    };
  }
  if (!options.voipmsToken) throw new Error('VOIPMS_WEBHOOK_TOKEN is needed for VoIP.ms requests');
  const token = `token=${encodeURIComponent(options.voipmsToken)}`;
  if (route === 'voipms/sms/incoming' && options.method !== 'POST') {
    return {
      method: 'GET',
      url: `${options.baseUrl}${path}?${token}&${new URLSearchParams(params)}`,
      headers: {},
    };
  }
  const body = route === 'voipms/call/cdr' ? { cdr: [params] } : params;
  return {
    method: 'POST',
    url: `${options.baseUrl}${path}?${token}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}
