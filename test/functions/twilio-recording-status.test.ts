import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/twilio-recording-status.js';
import { localQueues } from '../../lib/queue/index.js';
import { TEST_ACCOUNT_SID, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import {
  fakeSid,
  signedTwilioEvent,
  twilioRecordingStatusEvent,
  twilioRecordingStatusParams,
} from '../support/twilio.js';

const testDb = useTestDb();
const path = '/webhooks/twilio/recording/status';
const API = 'https://api.twilio.com';

const recordingRow = async (sid: string) =>
  (
    await testDb.db.query<Record<string, unknown>>(
      'SELECT id, provider_call_id, status, duration_seconds, error_code, source FROM recordings WHERE provider_recording_id = $1',
      [sid],
    )
  ).rows[0];
const recordingUrl = (sid: string) => `${API}/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${sid}`;

describe('POST /webhooks/twilio/recording/status', () => {
  beforeEach(() => {
    useConfig({ TWILIO_API_BASE_URL: API });
    localQueues.reset();
  });

  it('a completed recording is stored and queued for the recordings worker', async () => {
    // Prepare
    const params = twilioRecordingStatusParams();
    // Act
    const response = await invoke(handler, signedTwilioEvent(path, params));
    // Assess
    expect(response.statusCode).toBe(204);
    const row = await recordingRow(params.RecordingSid as string);
    expect(row).toMatchObject({
      provider_call_id: params.CallSid,
      status: 'completed',
      duration_seconds: 37,
      error_code: null,
      source: 'DialVerb',
    });
    expect(localQueues.messages('recordings')).toEqual([
      {
        provider: 'twilio',
        recordingId: Number(row!.id),
        providerRecordingId: params.RecordingSid,
        recordingUrl: params.RecordingUrl,
        callSid: params.CallSid,
      },
    ]);
  });

  // Every RecordingStatus Twilio sends, written out (not the product's own list).
  it.each(['in-progress', 'completed', 'absent', 'failed'])(
    'accepts RecordingStatus %s; only completed is queued',
    async (status) => {
      const sid = fakeSid('RE');
      const params = twilioRecordingStatusParams({
        RecordingSid: sid,
        RecordingUrl: recordingUrl(sid),
        RecordingStatus: status,
        ...(status === 'failed' ? { ErrorCode: '13617' } : {}),
      });
      const response = await invoke(handler, signedTwilioEvent(path, params));
      expect(response.statusCode).toBe(204);
      expect((await recordingRow(sid))?.status).toBe(status);
      expect(localQueues.messages('recordings')).toHaveLength(status === 'completed' ? 1 : 0);
    },
  );

  it('absent and failed are recorded as such, with the error code', async () => {
    const sid = fakeSid('RE');
    await invoke(
      handler,
      twilioRecordingStatusEvent({ RecordingSid: sid, RecordingStatus: 'failed', ErrorCode: '13617' }),
    );
    expect(await recordingRow(sid)).toMatchObject({ status: 'failed', error_code: '13617' });
  });

  it('repeats and late callbacks queue nothing twice and never move back', async () => {
    const params = twilioRecordingStatusParams();
    const inProgress = { ...params, RecordingStatus: 'in-progress' };
    await invoke(handler, signedTwilioEvent(path, inProgress));
    await invoke(handler, signedTwilioEvent(path, params));
    await invoke(handler, signedTwilioEvent(path, params));
    await invoke(handler, signedTwilioEvent(path, inProgress));
    expect((await recordingRow(params.RecordingSid as string))?.status).toBe('completed');
    expect(localQueues.messages('recordings')).toHaveLength(1);
  });

  it('a status written by the worker later (archived) is never overwritten by a repeat', async () => {
    const params = twilioRecordingStatusParams();
    await invoke(handler, signedTwilioEvent(path, params));
    await testDb.db.query(`UPDATE recordings SET status = 'archived'`);
    await invoke(handler, signedTwilioEvent(path, params));
    expect((await recordingRow(params.RecordingSid as string))?.status).toBe('archived');
    expect(localQueues.messages('recordings')).toHaveLength(1);
  });

  it.each([
    'https://evil.example/2010-04-01/Recordings/RE1',
    'http://api.twilio.com/2010-04-01/Recordings/RE1',
    'https://api.twilio.com.evil.example/RE1',
    'https://user:pw@api.twilio.com/RE1',
    'not a url',
  ])('refuses RecordingUrl %s (not on the configured Twilio API host) with 400', async (url) => {
    const params = twilioRecordingStatusParams({ RecordingUrl: url });
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(response.statusCode).toBe(400);
    expect(await recordingRow(params.RecordingSid as string)).toBeUndefined();
    expect(localQueues.messages('recordings')).toEqual([]);
  });

  it('answers 400 naming a missing RecordingSid', async () => {
    const { RecordingSid: _, ...params } = twilioRecordingStatusParams();
    const response = await invoke(handler, signedTwilioEvent(path, params));
    expect(JSON.parse(response.body)).toEqual({ error: 'RecordingSid is required' });
  });
});
