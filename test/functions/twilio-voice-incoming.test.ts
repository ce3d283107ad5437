import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/twilio-voice-incoming.js';
import { setDb } from '../../lib/db/index.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { localQueues } from '../../lib/queue/index.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL, useConfig } from '../support/config.js';
import { unreachableDb, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import {
  parseXml,
  signedTwilioEvent,
  twilioDialResultParams,
  twilioRecordActionParams,
  twilioVoiceIncomingParams,
  type XmlElement,
} from '../support/twilio.js';

const testDb = useTestDb();
const path = '/webhooks/twilio/voice/incoming';
const OFFICE_LINE = '+15085550100';
const EMERGENCY_LINE = '+15085550199';
// Tuesday 10 March 2026, 11:00 in New York (office open) and 23:00 (closed).
const OPEN_AT = new Date('2026-03-10T15:00:00Z');
const CLOSED_AT = new Date('2026-03-11T03:00:00Z');

const names = (node: XmlElement) => node.children.map((child) => child.name);
const callRow = async (sid: string) =>
  (await testDb.db.query('SELECT * FROM calls WHERE provider_call_id = $1', [sid])).rows[0];

async function setPractice(values: {
  office_line?: string | null;
  emergency_line?: string | null;
  holidays?: string[];
}) {
  await testDb.db.query(
    `UPDATE voip_settings SET practice_name = 'Smile & Co <Dental>', office_line = $1, emergency_line = $2,
       holidays = $3::jsonb WHERE provider = 'any' AND phone_number = '*'`,
    [
      values.office_line === undefined ? OFFICE_LINE : values.office_line,
      values.emergency_line === undefined ? EMERGENCY_LINE : values.emergency_line,
      JSON.stringify(values.holidays ?? []),
    ],
  );
  clearPracticeSettingsCache();
}

describe('POST /webhooks/twilio/voice/incoming', () => {
  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    await setPractice({});
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('in hours: greets with the recording disclosure and dials the office line, recorded, with callbacks', async () => {
    // Prepare
    vi.setSystemTime(OPEN_AT);
    const params = twilioVoiceIncomingParams();
    const event = signedTwilioEvent(path, params);
    expect(
      validateRequest(TEST_AUTH_TOKEN, event.headers['x-twilio-signature']!, TEST_BASE_URL + path, params),
    ).toBe(true);

    // Act
    const response = await invoke(handler, event);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^text\/xml/);
    const twiml = parseXml(response.body);
    expect(twiml.name).toBe('Response');
    expect(names(twiml)).toEqual(['Say', 'Dial']);
    expect(twiml.children[0]!.text).toContain('Smile & Co <Dental>');
    expect(twiml.children[0]!.text).toMatch(/recorded/i);
    const dial = twiml.children[1]!;
    expect(dial.attributes).toMatchObject({
      record: 'record-from-answer-dual',
      recordingStatusCallback: `${TEST_BASE_URL}/webhooks/twilio/recording/status`,
      action: `${TEST_BASE_URL}${path}?step=dial-result`,
      method: 'POST',
    });
    expect(dial.children.map((child) => [child.name, child.text])).toEqual([['Number', OFFICE_LINE]]);
    expect(await callRow(params.CallSid as string)).toMatchObject({
      provider: 'twilio',
      direction: 'inbound',
      from_number: '+14155550123',
      status: 'ringing',
      route: 'office',
    });
  });

  it('out of hours: names the emergency line, then voicemail with a recording callback', async () => {
    vi.setSystemTime(CLOSED_AT);
    const params = twilioVoiceIncomingParams();

    const response = await invoke(handler, signedTwilioEvent(path, params));

    const twiml = parseXml(response.body);
    expect(names(twiml)).toEqual(['Say', 'Say', 'Record']);
    expect(twiml.children[0]!.text).toMatch(/closed/);
    expect(twiml.children[0]!.text).toContain('5 0 8, 5 5 5, 0 1 9 9');
    expect(twiml.children[2]!.attributes).toMatchObject({
      action: `${TEST_BASE_URL}${path}?step=voicemail-done`,
      recordingStatusCallback: `${TEST_BASE_URL}/webhooks/twilio/recording/status`,
    });
    expect((await callRow(params.CallSid as string))?.route).toBe('after-hours');
  });

  it('a holiday is out of hours even on a weekday', async () => {
    vi.setSystemTime(OPEN_AT);
    await setPractice({ holidays: ['2026-03-10'] });
    const response = await invoke(handler, signedTwilioEvent(path, twilioVoiceIncomingParams()));
    expect(names(parseXml(response.body))).toEqual(['Say', 'Say', 'Record']);
  });

  it('without an office line, goes straight to voicemail', async () => {
    vi.setSystemTime(OPEN_AT);
    await setPractice({ office_line: null });
    const params = twilioVoiceIncomingParams();
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(names(parseXml(response.body))).toEqual(['Say', 'Say', 'Record']);
    expect((await callRow(params.CallSid as string))?.route).toBe('voicemail');
  });

  it.each(['no-answer', 'busy', 'failed', 'canceled'])(
    'dial result %s: voicemail, dial status stored',
    async (status) => {
      vi.setSystemTime(OPEN_AT);
      const first = twilioVoiceIncomingParams();
      await invoke(handler, signedTwilioEvent(path, first));
      const params = twilioDialResultParams({ CallSid: first.CallSid as string, DialCallStatus: status });

      const response = await invoke(
        handler,
        signedTwilioEvent(path, params, { rawQuery: 'step=dial-result' }),
      );

      expect(response.statusCode).toBe(200);
      expect(names(parseXml(response.body))).toEqual(['Say', 'Record']);
      expect((await callRow(first.CallSid as string))?.dial_status).toBe(status);
    },
  );

  it('dial result completed: the call was answered, hang up', async () => {
    const params = twilioDialResultParams({ DialCallStatus: 'completed', DialCallDuration: '95' });
    const response = await invoke(handler, signedTwilioEvent(path, params, { rawQuery: 'step=dial-result' }));
    expect(names(parseXml(response.body))).toEqual(['Hangup']);
    expect((await callRow(params.CallSid as string))?.dial_status).toBe('completed');
    const talk = await testDb.db.query(
      'SELECT dial_duration_seconds FROM calls WHERE provider_call_id = $1',
      [params.CallSid],
    );
    expect(talk.rows).toEqual([{ dial_duration_seconds: 95 }]);
  });

  it('after the voicemail: thanks and hangs up', async () => {
    const response = await invoke(
      handler,
      signedTwilioEvent(path, twilioRecordActionParams(), { rawQuery: 'step=voicemail-done' }),
    );
    expect(names(parseXml(response.body))).toEqual(['Say', 'Hangup']);
  });

  it('the query string is signed: a step added after signing is refused', async () => {
    const event = signedTwilioEvent(path, twilioDialResultParams());
    event.rawQueryString = 'step=dial-result';
    const response = await invoke(handler, event);
    expect(response.statusCode).toBe(403);
  });

  it('a malformed (signed) request still gets TwiML that lets the caller leave a message', async () => {
    const { CallSid: _, ...params } = twilioVoiceIncomingParams();
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(response.statusCode).toBe(200);
    expect(names(parseXml(response.body))).toEqual(['Say', 'Say', 'Record']);
    expect((await testDb.db.query('SELECT count(*)::int AS n FROM calls')).rows[0]).toEqual({ n: 0 });
  });

  it('anonymous callers are answered and recorded as given', async () => {
    vi.setSystemTime(OPEN_AT);
    const params = twilioVoiceIncomingParams({ From: 'Anonymous', Caller: 'Anonymous' });
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(names(parseXml(response.body))).toEqual(['Say', 'Dial']);
    expect((await callRow(params.CallSid as string))?.from_number).toBe('Anonymous');
  });

  it('database and ingest queue both down: fallback TwiML, never an error', async () => {
    // Prepare: a database that is unreachable, and an ingest queue that refuses.
    const down = unreachableDb('connection refused');
    useConfig({ INGEST_QUEUE_URL: 'http://127.0.0.1:9/000000000000/ingest' });
    setDb(down);
    clearPracticeSettingsCache();
    try {
      // Act
      const response = await invoke(handler, signedTwilioEvent(path, twilioVoiceIncomingParams()));
      // Assess
      expect(response.statusCode).toBe(200);
      const twiml = parseXml(response.body);
      expect(names(twiml)).toContain('Record');
    } finally {
      setDb(testDb.db);
    }
  });

  it('database down: the call is deferred to the ingest queue and the caller still routed', async () => {
    vi.setSystemTime(OPEN_AT);
    const down = unreachableDb('timeout');
    setDb(down);
    clearPracticeSettingsCache();
    try {
      const response = await invoke(handler, signedTwilioEvent(path, twilioVoiceIncomingParams()));
      expect(response.statusCode).toBe(200);
      expect(parseXml(response.body).name).toBe('Response');
      expect(localQueues.messages('ingest')).toEqual(
        expect.arrayContaining([expect.objectContaining({ action: 'calls.incoming' })]),
      );
    } finally {
      setDb(testDb.db);
    }
  });
});
