import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/voipms-recording-ready.js';
import { localQueues } from '../../lib/queue/index.js';
import { TEST_VOIPMS_TOKEN, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { httpEvent, invoke } from '../support/events.js';

const testDb = useTestDb();
const path = '/webhooks/voipms/recording/ready';

const readyEvent = (body: string, contentType: string, token = TEST_VOIPMS_TOKEN) =>
  httpEvent({ path, rawQuery: `token=${token}`, body, headers: { 'content-type': contentType } });
const recordings = async () =>
  (
    await testDb.db.query(
      'SELECT id, provider_recording_id, provider_call_id, provider_account, status FROM recordings',
    )
  ).rows;

describe('POST /webhooks/voipms/recording/ready', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
  });

  it('stores the recording once, queues it once and answers 202 with its id', async () => {
    // Prepare
    const body = JSON.stringify({
      callrecording: 'MTA5Nzk5LTUy',
      account: '100000_VoIP',
      uniqueid: '1714990000.7',
    });

    // Act
    const first = await invoke(handler, readyEvent(body, 'application/json'));
    const again = await invoke(handler, readyEvent(body, 'application/json'));

    // Assess
    expect(first.statusCode).toBe(202);
    const [row] = await recordings();
    expect(row).toMatchObject({
      provider_recording_id: 'MTA5Nzk5LTUy',
      provider_call_id: '1714990000.7',
      provider_account: '100000_VoIP',
      status: 'completed',
    });
    expect(JSON.parse(first.body)).toEqual({ accepted: true, recordingId: Number(row!.id) });
    expect(JSON.parse(again.body)).toEqual({ accepted: true, recordingId: Number(row!.id) });
    expect(localQueues.messages('recordings')).toEqual([
      {
        provider: 'voipms',
        recordingId: Number(row!.id),
        providerRecordingId: 'MTA5Nzk5LTUy',
        account: '100000_VoIP',
      },
    ]);
  });

  it('accepts a form body', async () => {
    const response = await invoke(
      handler,
      readyEvent('callrecording=REC-FORM', 'application/x-www-form-urlencoded'),
    );
    expect(response.statusCode).toBe(202);
    expect((await recordings()).map((row) => row.provider_recording_id)).toEqual(['REC-FORM']);
  });

  it('answers 400 without callrecording and 403 with a wrong token', async () => {
    const missing = await invoke(handler, readyEvent('{"account":"1"}', 'application/json'));
    expect(missing.statusCode).toBe(400);
    expect(JSON.parse(missing.body)).toEqual({ error: 'callrecording is required' });
    const refused = await invoke(handler, readyEvent('{"callrecording":"R"}', 'application/json', 'wrong'));
    expect(refused.statusCode).toBe(403);
    expect(await recordings()).toEqual([]);
    expect(localQueues.messages('recordings')).toEqual([]);
  });
});
