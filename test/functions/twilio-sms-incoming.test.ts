import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/twilio-sms-incoming.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import {
  parseXml,
  signedTwilioEvent,
  twilioSmsIncomingEvent,
  twilioSmsIncomingParams,
} from '../support/twilio.js';

const testDb = useTestDb();
const path = '/webhooks/twilio/sms/incoming';
const PATIENT = '+14155550123';

const messages = async () =>
  (
    await testDb.db.query<Record<string, unknown>>(
      `SELECT provider_message_id, direction, from_number, to_number, body, status, auto_response_intent,
         num_media, num_segments, media_urls, in_reply_to
       FROM sms_messages ORDER BY id`,
    )
  ).rows;
const optOuts = async () => (await testDb.db.query('SELECT phone_number, keyword FROM opt_outs')).rows;
const replyOf = (body: string) => {
  const root = parseXml(body);
  expect(root.name).toBe('Response');
  expect(root.children.every((child) => child.name === 'Message')).toBe(true);
  expect(root.children.length).toBeLessThanOrEqual(1);
  return root.children[0]?.text ?? null;
};

describe('POST /webhooks/twilio/sms/incoming', () => {
  beforeEach(async () => {
    useConfig();
    await testDb.db.query(
      `UPDATE voip_settings SET practice_name = 'Smile & Co <Dental>', auto_reply_enabled = true,
         office_line = '+15085550100' WHERE phone_number = '*'`,
    );
    clearPracticeSettingsCache();
  });

  it('stores the text, answers one escaped <Message> and stores the reply row', async () => {
    // Prepare
    const params = twilioSmsIncomingParams({ Body: 'What are your hours?' });

    // Act
    const response = await invoke(handler, signedTwilioEvent(path, params));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^text\/xml/);
    expect(response.body).toContain('Smile &amp; Co &lt;Dental&gt;');
    const reply = replyOf(response.body);
    expect(reply).toContain('Smile & Co <Dental>');
    const [inbound, outbound] = await messages();
    expect(inbound).toMatchObject({
      provider_message_id: params.MessageSid,
      direction: 'inbound',
      from_number: PATIENT,
      body: 'What are your hours?',
      status: 'received',
      num_segments: 1,
      num_media: 0,
    });
    expect(outbound).toMatchObject({
      provider_message_id: `reply:${params.MessageSid}`,
      direction: 'outbound',
      to_number: PATIENT,
      body: reply,
      auto_response_intent: 'hours',
    });
  });

  it('stores MMS media references and segment count', async () => {
    const params = twilioSmsIncomingParams({
      MessageSid: `MM${'a'.repeat(32)}`,
      Body: '',
      NumMedia: '2',
      NumSegments: '1',
      MediaContentType0: 'image/jpeg',
      MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1',
      MediaContentType1: 'image/png',
      MediaUrl1: 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2',
    });
    await invoke(handler, signedTwilioEvent(path, params));
    expect((await messages())[0]).toMatchObject({
      num_media: 2,
      media_urls: [params.MediaUrl0, params.MediaUrl1],
      body: '',
    });
  });

  it.each(['STOP', 'START', 'HELP'])('OptOutType %s: no reply (Twilio answered itself)', async (type) => {
    const response = await invoke(
      handler,
      twilioSmsIncomingEvent({ Body: type.toLowerCase(), OptOutType: type }),
    );
    expect(replyOf(response.body)).toBeNull();
    expect(response.body).toMatch(/<Response\/>$/);
    expect((await messages()).map((row) => row.direction)).toEqual(['inbound']);
  });

  it('OptOutType STOP records the opt-out; START lifts it', async () => {
    await invoke(handler, twilioSmsIncomingEvent({ Body: 'STOP', OptOutType: 'STOP' }));
    expect(await optOuts()).toEqual([{ phone_number: PATIENT, keyword: 'STOP' }]);

    await invoke(handler, twilioSmsIncomingEvent({ Body: 'START', OptOutType: 'START' }));
    expect(await optOuts()).toEqual([]);
  });

  it('an opted-out number gets no reply, but its text is stored', async () => {
    await testDb.db.query(
      `INSERT INTO opt_outs (phone_number, keyword, provider) VALUES ($1, 'STOP', 'twilio')`,
      [PATIENT],
    );
    const response = await invoke(handler, twilioSmsIncomingEvent({ Body: 'Can I book a cleaning?' }));
    expect(replyOf(response.body)).toBeNull();
    expect((await messages()).map((row) => row.direction)).toEqual(['inbound']);
  });

  it('a plain STOP without Advanced Opt-Out records the opt-out and sends nothing', async () => {
    const response = await invoke(handler, twilioSmsIncomingEvent({ Body: 'Stop' }));
    expect(replyOf(response.body)).toBeNull();
    expect(await optOuts()).toEqual([{ phone_number: PATIENT, keyword: 'STOP' }]);
  });

  it('auto-reply switched off: stored, no reply', async () => {
    await testDb.db.query(`UPDATE voip_settings SET auto_reply_enabled = false`);
    clearPracticeSettingsCache();
    const response = await invoke(handler, twilioSmsIncomingEvent({ Body: 'hours?' }));
    expect(replyOf(response.body)).toBeNull();
    expect(await messages()).toHaveLength(1);
  });

  it.each(['ACME', '+266696687', '12345'])(
    'sender %s (not textable) gets no reply and breaks nothing',
    async (from) => {
      const response = await invoke(
        handler,
        twilioSmsIncomingEvent({ From: from, Body: 'Your code is 1234' }),
      );
      expect(response.statusCode).toBe(200);
      expect(replyOf(response.body)).toBeNull();
      expect((await messages())[0]).toMatchObject({ from_number: from });
    },
  );

  it('a repeated delivery (same MessageSid, same idempotency token) stores once and replies once', async () => {
    const params = twilioSmsIncomingParams({ Body: 'where are you located?' });
    const headers = { 'i-twilio-idempotency-token': 'b6a7c9a4-2b1e-4f0c-9a55-0c8f0f3c8a11' };

    const first = await invoke(handler, signedTwilioEvent(path, params, { headers }));
    const second = await invoke(handler, signedTwilioEvent(path, params, { headers }));

    expect(replyOf(first.body)).not.toBeNull();
    expect(replyOf(second.body)).toBeNull();
    expect(await messages()).toHaveLength(2);
  });

  it('answers 400 naming a missing From', async () => {
    const { From: _, ...params } = twilioSmsIncomingParams();
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'From is required' });
  });

  it('refuses a bad signature with 403', async () => {
    const response = await invoke(handler, twilioSmsIncomingEvent({}, { signature: 'bm9wZQ==' }));
    expect(response.statusCode).toBe(403);
    expect(await messages()).toEqual([]);
  });
});
