import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartTranscriptionJobCommand, TranscribeClient } from '@aws-sdk/client-transcribe';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/recording-worker.js';
import { TEST_ACCOUNT_SID, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import {
  fakeMp3,
  insertRecording,
  recordingRow,
  sqsEvent,
  transcriptionRow,
  twilioJobFor,
} from './factories.js';
import { type FakeRecordingServer, startFakeRecordingServer } from './fake-recording-server.js';

const testDb = useTestDb();
const transcribe = mockClient(TranscribeClient);
let twilio: FakeRecordingServer;
let dataDir: string;

beforeAll(async () => {
  twilio = await startFakeRecordingServer(TEST_ACCOUNT_SID);
  dataDir = await mkdtemp(join(tmpdir(), 'pw-local-'));
});
afterAll(async () => {
  await twilio?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('recording worker without AWS (npm start)', () => {
  it('keeps the recording under DATA_DIR and reports transcription as disabled', async () => {
    // Prepare
    useConfig({
      TWILIO_API_BASE_URL: twilio.origin,
      RECORDINGS_BUCKET: undefined,
      DATA_DIR: dataDir,
      ENABLE_TRANSCRIPTION: 'true',
    });
    const mp3 = fakeMp3(8000);
    const id = await insertRecording(testDb.db);
    const job = await twilioJobFor(testDb.db, id, twilio.recordingUrl);
    twilio.serve(job.providerRecordingId, { mp3 });

    // Act
    const result = await handler(sqsEvent(job));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const row = await recordingRow(testDb.db, id);
    expect(row).toMatchObject({ status: 'archived' });
    expect(row!.storage_key).toMatch(/^recordings\/twilio\/\d{4}\/\d{2}\/RE[0-9a-f]+\.mp3$/);
    expect((await readFile(join(dataDir, row!.storage_key!))).equals(mp3)).toBe(true);
    expect(await transcriptionRow(testDb.db, id)).toMatchObject({ status: 'disabled', text: null });
    expect(transcribe.commandCalls(StartTranscriptionJobCommand)).toHaveLength(0);
  });
});
