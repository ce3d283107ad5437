import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ALLOWED_IP, DID, PATIENT, smsId } from '../lib/voipms/factories.js';
import { TEST_ACCOUNT_SID, TEST_VOIPMS_TOKEN, testEnv } from '../support/config.js';
import { httpEvent } from '../support/events.js';
import { fakeSid, signedTwilioEvent, type TwilioParams, twilioSmsStatusParams } from '../support/twilio.js';

/**
 * Every webhook route with a factory for a valid request, so the resilience suites cover each route that
 * exists and grow as routes land. Params are plain key → value(s); `event` turns them into a request.
 */
export interface RouteCase {
  name: string;
  file: string;
  path: string;
  provider: 'twilio' | 'voipms';
  method: 'GET' | 'POST';
  /** Statuses a valid request may get. */
  ok: number[];
  params(): TwilioParams;
  event(
    params: TwilioParams,
    options?: { sourceIp?: string; headers?: Record<string, string> },
  ): APIGatewayProxyEventV2;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const PATIENT_E164 = '+14155550123';
const PRACTICE = '+15005550006';
let sequence = 0;

const twilio = (name: string, file: string, ok: number[], params: () => TwilioParams): RouteCase => ({
  name,
  file,
  path: `/webhooks/${name}`,
  provider: 'twilio',
  method: 'POST',
  ok,
  params,
  event: (p, options) => signedTwilioEvent(`/webhooks/${name}`, p, { headers: options?.headers }),
});

/** VoIP.ms: the token in the query, the rest in the query (GET) or a form/JSON body (POST). */
const voipms = (
  name: string,
  file: string,
  method: 'GET' | 'POST',
  ok: number[],
  params: () => TwilioParams,
  encoding: 'form' | 'json' = 'form',
): RouteCase => ({
  name,
  file,
  path: `/webhooks/${name}`,
  provider: 'voipms',
  method,
  ok,
  params,
  event: (p, options) => {
    const query = new URLSearchParams({ token: TEST_VOIPMS_TOKEN });
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(p))
      for (const item of Array.isArray(value) ? value : [value])
        (method === 'GET' ? query : form).append(key, item);
    const json = encoding === 'json' && p.cdr !== undefined ? `{"cdr":${p.cdr}}` : undefined;
    return httpEvent({
      method,
      path: `/webhooks/${name}`,
      rawQuery: query.toString(),
      sourceIp: options?.sourceIp ?? ALLOWED_IP,
      body: method === 'GET' ? undefined : (json ?? form.toString()),
      headers: {
        ...(method === 'POST'
          ? { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' }
          : {}),
        ...options?.headers,
      },
    });
  },
});

const account = { AccountSid: TEST_ACCOUNT_SID, ApiVersion: '2010-04-01' };

export const ROUTES: RouteCase[] = [
  twilio('twilio/sms/status', 'functions/twilio-sms-status.ts', [204], () => twilioSmsStatusParams()),
  twilio('twilio/sms/incoming', 'functions/twilio-sms-incoming.ts', [200], () => {
    const sid = fakeSid('SM');
    return {
      ...account,
      MessageSid: sid,
      SmsSid: sid,
      From: PATIENT_E164,
      To: PRACTICE,
      Body: 'What time do you open on Saturday?',
      NumMedia: '0',
      NumSegments: '1',
    };
  }),
  twilio('twilio/voice/incoming', 'functions/twilio-voice-incoming.ts', [200], () => ({
    ...account,
    CallSid: fakeSid('CA'),
    From: PATIENT_E164,
    To: PRACTICE,
    CallStatus: 'ringing',
    Direction: 'inbound',
  })),
  twilio('twilio/voice/status', 'functions/twilio-voice-status.ts', [204], () => ({
    ...account,
    CallSid: fakeSid('CA'),
    From: PATIENT_E164,
    To: PRACTICE,
    CallStatus: 'completed',
    CallDuration: '42',
    Direction: 'inbound',
  })),
  twilio('twilio/recording/status', 'functions/twilio-recording-status.ts', [204], () => {
    const recording = fakeSid('RE');
    return {
      AccountSid: TEST_ACCOUNT_SID,
      CallSid: fakeSid('CA'),
      RecordingSid: recording,
      RecordingUrl: `${testEnv().TWILIO_API_BASE_URL}/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${recording}`,
      RecordingStatus: 'completed',
      RecordingDuration: '12',
      RecordingChannels: '1',
      RecordingSource: 'DialVerb',
    };
  }),
  voipms('voipms/sms/incoming', 'functions/voipms-sms-incoming.ts', 'GET', [200], () => ({
    id: smsId(),
    from: PATIENT,
    to: DID,
    message: 'what time do you open tomorrow?',
    date: '2024-05-06 10:15:00',
  })),
  voipms(
    'voipms/call/cdr',
    'functions/voipms-call-cdr.ts',
    'POST',
    [200],
    () => {
      sequence += 1;
      return {
        cdr: JSON.stringify([
          {
            date: '2024-05-06 10:15:00',
            callerid: `"Patient" <${PATIENT}>`,
            destination: DID,
            description: 'Inbound DID',
            account: '100000',
            disposition: 'ANSWERED',
            duration: '00:01:02',
            seconds: '62',
            rate: '0.0100',
            total: '0.0103',
            uniqueid: `1715000000.${process.pid}${sequence}`,
          },
        ]),
      };
    },
    'json',
  ),
  voipms('voipms/recording/ready', 'functions/voipms-recording-ready.ts', 'POST', [202], () => {
    sequence += 1;
    return { callrecording: `rec-${process.pid}-${sequence}`, uniqueid: `1715000000.${sequence}` };
  }),
];

type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<unknown>;

/** The routes whose function file exists, with their handlers. */
export async function existingRoutes(): Promise<(RouteCase & { handler: Handler })[]> {
  const present = ROUTES.filter((route) => existsSync(`${root}/${route.file}`));
  return Promise.all(
    present.map(async (route) => {
      const module = (await import(pathToFileURL(`${root}/${route.file}`).href)) as { handler: Handler };
      return { ...route, handler: module.handler };
    }),
  );
}

export const routeExists = (name: string) =>
  ROUTES.some((route) => route.name === name && existsSync(`${root}/${route.file}`));
