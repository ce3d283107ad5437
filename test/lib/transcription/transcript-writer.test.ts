import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LanguageCode } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/transcript-writer.js';
import { resetS3Client } from '../../../lib/recordings/index.js';
import type { TranscribeJobStateChange } from '../../../lib/transcription/index.js';
import { type LocalS3, startLocalS3, transcribeStandIn } from '../../support/aws.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { countedMetrics } from '../../support/metrics.js';
import { fakeSid } from '../../support/twilio.js';
import { insertRecording, transcriptionRow } from '../recordings/factories.js';

const BUCKET = 'pedro-test-transcripts';
const testDb = useTestDb();
const transcribe = transcribeStandIn();
let s3: LocalS3;

const stateChange = (jobName: string, status: string, failureReason?: string): TranscribeJobStateChange => ({
  source: 'aws.transcribe',
  'detail-type': 'Transcribe Job State Change',
  detail: {
    TranscriptionJobName: jobName,
    TranscriptionJobStatus: status,
    ...(failureReason ? { FailureReason: failureReason } : {}),
  },
});

/** A voicemail: the call, its recording and the started transcription job. */
async function voicemail() {
  const callSid = fakeSid('CA');
  await testDb.db.query(
    `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
     VALUES ('twilio', $1, 'inbound', '+14155550123', '+15005550006', 'completed')`,
    [callSid],
  );
  const recordingId = await insertRecording(testDb.db, { providerCallId: callSid });
  const jobName = `pedro-test-recording-${recordingId}`;
  const outputKey = `transcripts/twilio/2025/01/${recordingId}.json`;
  await testDb.db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key) VALUES ($1, 'in_progress', $2, $3)`,
    [recordingId, jobName, outputKey],
  );
  return { recordingId, jobName, outputKey, callSid };
}

async function putTranscript(key: string, text: string) {
  const body = JSON.stringify({
    jobName: 'x',
    results: { transcripts: [{ transcript: text }], items: [] },
    status: 'COMPLETED',
  });
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

const completedJob = (key: string, language: LanguageCode = 'es-US') => ({
  LanguageCode: language,
  TranscriptionJobStatus: 'COMPLETED' as const,
  Transcript: { RedactedTranscriptFileUri: `https://s3.us-east-1.amazonaws.com/${BUCKET}/${key}` },
});

beforeAll(async () => {
  s3 = await startLocalS3([BUCKET]);
  process.env.S3_ENDPOINT = s3.endpoint;
  resetS3Client();
});
afterAll(async () => {
  resetS3Client();
  await s3?.close();
});
beforeEach(() => {
  transcribe.reset();
  vi.restoreAllMocks();
  useConfig({ STAGE: 'test', RECORDINGS_BUCKET: BUCKET, ENABLE_TRANSCRIPTION: 'true' });
});

describe('transcript writer', () => {
  it('stores the redacted text and language of a completed job, linked to the call and caller', async () => {
    // Prepare
    const { recordingId, jobName, outputKey } = await voicemail();
    await putTranscript(outputKey, 'Hola, necesito una cita para [PII] el martes.');
    transcribe.seedJob(jobName, completedJob(outputKey));
    const metricNames = countedMetrics();

    // Act
    const result = await handler(stateChange(jobName, 'COMPLETED'));

    // Assess
    expect(result).toMatchObject({ status: 'completed', recordingId, stored: true });
    const row = await transcriptionRow(testDb.db, recordingId);
    expect(row).toMatchObject({
      status: 'completed',
      text: 'Hola, necesito una cita para [PII] el martes.',
      language: 'es-US',
      caller_number: '+14155550123',
    });
    expect(row!.call_id).not.toBeNull();
    expect(metricNames()).toContain('TranscriptionCompleted');
    const { rows } = await testDb.db.query<{ caller_number: string; text: string }>(
      'SELECT caller_number, text FROM transcription_calls WHERE recording_id = $1',
      [recordingId],
    );
    expect(rows).toEqual([{ caller_number: '+14155550123', text: row!.text }]);
  });

  it('records the failure reason of a failed job', async () => {
    // Prepare
    const { recordingId, jobName } = await voicemail();
    const metricNames = countedMetrics();

    // Act
    const result = await handler(stateChange(jobName, 'FAILED', 'The media file is too short.'));

    // Assess
    expect(result).toMatchObject({ status: 'failed', recordingId });
    expect(await transcriptionRow(testDb.db, recordingId)).toMatchObject({
      status: 'failed',
      failure_reason: 'The media file is too short.',
      text: null,
    });
    expect(metricNames()).toContain('TranscriptionFailed');
  });

  it('asks Transcribe for the reason when the event has none', async () => {
    // Prepare
    const { recordingId, jobName } = await voicemail();
    transcribe.seedJob(jobName, { TranscriptionJobStatus: 'FAILED', FailureReason: 'Unsupported media.' });

    // Act
    await handler(stateChange(jobName, 'FAILED'));

    // Assess
    expect((await transcriptionRow(testDb.db, recordingId))!.failure_reason).toBe('Unsupported media.');
  });

  it('never lets a late failure overwrite a completed transcript', async () => {
    // Prepare
    const { recordingId, jobName, outputKey } = await voicemail();
    await putTranscript(outputKey, 'Call me back please.');
    transcribe.seedJob(jobName, completedJob(outputKey, 'en-US'));
    await handler(stateChange(jobName, 'COMPLETED'));

    // Act
    const late = await handler(stateChange(jobName, 'FAILED', 'Internal failure.'));

    // Assess
    expect(late).toMatchObject({ stored: false });
    expect(await transcriptionRow(testDb.db, recordingId)).toMatchObject({
      status: 'completed',
      text: 'Call me back please.',
      language: 'en-US',
    });
  });

  it('writes the outcome even if the start had not recorded its row yet', async () => {
    // Prepare
    const recordingId = await insertRecording(testDb.db);
    const jobName = `pedro-test-recording-${recordingId}`;

    // Act
    await handler(stateChange(jobName, 'FAILED', 'Access denied.'));

    // Assess
    expect(await transcriptionRow(testDb.db, recordingId)).toMatchObject({
      status: 'failed',
      job_name: jobName,
    });
  });

  it.each([
    ['another application', 'meeting-notes-42'],
    ['another stage', 'pedro-prod-recording-1'],
  ])('ignores jobs of %s', async (_label, jobName) => {
    // Act
    const result = await handler(stateChange(jobName, 'COMPLETED'));

    // Assess
    expect(result.status).toBe('ignored');
    expect(transcribe.mock.calls()).toHaveLength(0);
  });
});
