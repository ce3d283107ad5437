import { fileURLToPath } from 'node:url';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../lib/local/gateway.js';
import { readFunctions } from '../../../lib/local/routes.js';
import { TEST_AUTH_TOKEN, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { encodeForm, twilioSmsStatusParams } from '../../support/twilio.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const testDb = useTestDb();
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway({ root, port: 0 });
});
afterAll(async () => gateway?.close());

/** Signs for the URL the gateway is reached at, as Twilio signs the URL configured in its console. */
function signedPost(path: string, params: Record<string, string>, tamper?: Record<string, string>) {
  const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, `${gateway.url}${path}`, params);
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: encodeForm({ ...params, ...tamper }),
  });
}

describe('local gateway', () => {
  it('serves every HTTP route of serverless.yml that has a handler', () => {
    const declared = readFunctions(`${root}/serverless.yml`).flatMap((fn) =>
      fn.http.map((route) => route.path),
    );
    expect(declared).toContain('/webhooks/twilio/sms/status');
    for (const route of gateway.routes) expect(declared).toContain(route.path);
    expect(gateway.routes.map((route) => route.path)).toContain('/webhooks/twilio/sms/status');
  });

  it('answers a signed status callback with 204 and a tampered one with 403, logging both', async () => {
    useConfig({ WEBHOOK_BASE_URL: gateway.url });
    const path = '/webhooks/twilio/sms/status';
    const params = twilioSmsStatusParams() as Record<string, string>;

    const accepted = await signedPost(path, params);
    const refused = await signedPost(path, params, { MessageStatus: 'failed' });

    expect(accepted.status).toBe(204);
    expect(refused.status).toBe(403);
    const stored = await testDb.db.query('SELECT status FROM sms_messages WHERE provider_message_id = $1', [
      params.MessageSid,
    ]);
    expect(stored.rows).toEqual([{ status: 'delivered' }]);
    const logs = await testDb.db.query('SELECT status_code, signature_valid FROM webhook_logs ORDER BY id');
    expect(logs.rows).toEqual([
      { status_code: 204, signature_valid: true },
      { status_code: 403, signature_valid: false },
    ]);
  });

  it('answers 405 for another method on a route, 404 off the routes, 413 for a huge body', async () => {
    useConfig({ WEBHOOK_BASE_URL: gateway.url });
    const wrongMethod = await fetch(`${gateway.url}/webhooks/twilio/sms/status`, { method: 'GET' });
    const unknown = await fetch(`${gateway.url}/nowhere`, { method: 'POST' });
    const huge = await fetch(`${gateway.url}/webhooks/twilio/sms/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Body=${'x'.repeat(70 * 1024)}`,
    });
    expect([wrongMethod.status, unknown.status, huge.status]).toEqual([405, 404, 413]);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const logs = await testDb.db.query('SELECT status_code FROM webhook_logs ORDER BY id');
    expect(logs.rows).toEqual([{ status_code: 405 }, { status_code: 413 }]);
  });
});
