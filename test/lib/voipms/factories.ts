import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { TEST_VOIPMS_TOKEN } from '../../support/config.js';
import { httpEvent } from '../../support/events.js';

export const PATIENT = '5145550123';
export const PATIENT_E164 = `+1${PATIENT}`;
export const DID = '5145550000';
export const DID_E164 = `+1${DID}`;
/** Inside VOIPMS_ALLOWED_IPS of the test configuration. */
export const ALLOWED_IP = '203.0.113.10';

let counter = 0;
/** A VoIP.ms SMS id, unique within a test run. */
export const smsId = (): string => String(900_000 + ++counter);

export type SmsParams = Record<string, string>;

/** The parameters VoIP.ms substitutes into the URL callback ({ID} {FROM} {TO} {MESSAGE} {TIMESTAMP}). */
export function voipmsSmsParams(overrides: Partial<SmsParams> = {}): SmsParams {
  return {
    id: smsId(),
    from: PATIENT,
    to: DID,
    message: 'what time do you open tomorrow?',
    date: '2024-05-06 10:15:00',
    ...overrides,
  } as SmsParams;
}

export interface VoipmsEventOptions {
  method?: 'GET' | 'POST';
  token?: string | null;
  sourceIp?: string;
  /** POST only: 'form' (default) or 'json'. */
  encoding?: 'form' | 'json';
  path?: string;
}

/** The request VoIP.ms makes: GET with everything in the query, or POST with a form/JSON body. */
export function voipmsEvent(
  params: Record<string, unknown>,
  options: VoipmsEventOptions = {},
): APIGatewayProxyEventV2 {
  const { method = 'GET', token = TEST_VOIPMS_TOKEN, sourceIp = ALLOWED_IP, encoding = 'form' } = options;
  const path = options.path ?? '/webhooks/voipms/sms/incoming';
  const query = new URLSearchParams();
  if (token !== null) query.set('token', token);
  if (method === 'GET') {
    for (const [key, value] of Object.entries(params)) query.set(key, String(value));
    return httpEvent({ method, path, rawQuery: query.toString(), sourceIp });
  }
  const body =
    encoding === 'json'
      ? JSON.stringify(params)
      : new URLSearchParams(
          Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
        ).toString();
  return httpEvent({
    method,
    path,
    rawQuery: query.toString(),
    sourceIp,
    body,
    headers: {
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    },
  });
}
