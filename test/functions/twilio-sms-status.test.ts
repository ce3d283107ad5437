import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/twilio-sms-status.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import {
  encodeForm,
  fakeSid,
  signedTwilioEvent,
  twilioSmsStatusEvent,
  twilioSmsStatusParams,
} from '../support/twilio.js';

const testDb = useTestDb();
const path = '/webhooks/twilio/sms/status';

const messageRow = async (sid: string) =>
  (
    await testDb.db.query<{ status: string; error_code: string | null }>(
      'SELECT status, error_code FROM sms_messages WHERE provider_message_id = $1',
      [sid],
    )
  ).rows[0];
const logs = async () =>
  (
    await testDb.db.query<{
      status_code: number;
      signature_valid: boolean;
      payload: Record<string, unknown>;
    }>('SELECT status_code, signature_valid, payload FROM webhook_logs ORDER BY id')
  ).rows;

describe('POST /webhooks/twilio/sms/status', () => {
  beforeEach(() => {
    useConfig();
  });

  it('stores a signed delivery receipt, answers 204 and logs it masked', async () => {
    // Prepare
    const params = twilioSmsStatusParams({ MessageStatus: 'delivered', To: '+14155550123' });
    const event = signedTwilioEvent(path, params);
    // The fixture factory signs exactly as Twilio does: Twilio's own validator is the oracle.
    expect(
      validateRequest(TEST_AUTH_TOKEN, event.headers['x-twilio-signature']!, TEST_BASE_URL + path, params),
    ).toBe(true);

    // Act
    const response = await invoke(handler, event);

    // Assess
    expect(response.statusCode).toBe(204);
    expect(await messageRow(params.MessageSid as string)).toEqual({ status: 'delivered', error_code: null });
    const [log] = await logs();
    expect(log).toMatchObject({ status_code: 204, signature_valid: true });
    expect(JSON.stringify(log!.payload)).not.toContain('4155550123');
  });

  it('refuses a tampered request with 403 and logs the refusal', async () => {
    const params = twilioSmsStatusParams();
    const event = signedTwilioEvent(path, params);
    const tampered = { ...params, MessageStatus: 'failed' };
    event.body = Buffer.from(encodeForm(tampered)).toString('base64');

    const response = await invoke(handler, event);

    expect(response.statusCode).toBe(403);
    expect(response.headers?.['content-type']).toMatch(/text\/plain/);
    expect(await messageRow(params.MessageSid as string)).toBeUndefined();
    expect(await logs()).toMatchObject([{ status_code: 403, signature_valid: false }]);
  });

  it('refuses every request when no auth token is configured', async () => {
    useConfig({ TWILIO_AUTH_TOKEN: undefined });
    const response = await invoke(handler, twilioSmsStatusEvent());
    expect(response.statusCode).toBe(403);
  });

  // Every MessageStatus Twilio documents for a status callback, written out: the check must not shrink with
  // the product's own list.
  it.each([
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
  ])('accepts MessageStatus %s', async (status) => {
    const params = twilioSmsStatusParams({ MessageStatus: status });
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(response.statusCode).toBe(204);
    expect((await messageRow(params.MessageSid as string))?.status).toBe(status);
  });

  it('never moves a status backwards: a late sent after delivered changes nothing', async () => {
    const sid = fakeSid('SM');
    for (const status of ['queued', 'delivered', 'sent', 'sending']) {
      await invoke(handler, twilioSmsStatusEvent({ MessageSid: sid, MessageStatus: status }));
    }
    expect((await messageRow(sid))?.status).toBe('delivered');
  });

  it('records error 21610 as an opt-out of the recipient', async () => {
    const params = twilioSmsStatusParams({
      MessageStatus: 'undelivered',
      ErrorCode: '21610',
      To: '+14155550199',
    });
    await invoke(handler, signedTwilioEvent(path, params));
    expect(await messageRow(params.MessageSid as string)).toEqual({
      status: 'undelivered',
      error_code: '21610',
    });
    const optOuts = await testDb.db.query('SELECT phone_number FROM opt_outs');
    expect(optOuts.rows).toEqual([{ phone_number: '+14155550199' }]);
  });

  it('answers 400 naming the missing field', async () => {
    const { MessageSid: _, ...params } = twilioSmsStatusParams();
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'MessageSid is required' });
    expect(await logs()).toMatchObject([{ status_code: 400, signature_valid: true }]);
  });
});
