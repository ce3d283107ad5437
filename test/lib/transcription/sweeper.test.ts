import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LimitExceededException } from '@aws-sdk/client-transcribe';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as writeEvent } from '../../../functions/transcript-writer.js';
import { handler as sweep } from '../../../functions/transcription-sweeper.js';
import { recordingStore, resetS3Client } from '../../../lib/recordings/index.js';
import { startTranscription, sweepStaleTranscriptions } from '../../../lib/transcription/index.js';
import { type LocalS3, startLocalS3, transcribeStandIn } from '../../support/aws.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { countedMetrics } from '../../support/metrics.js';
import { insertRecording, transcriptionRow } from '../recordings/factories.js';

const BUCKET = 'pedro-test-transcripts';
const testDb = useTestDb();
const transcribe = transcribeStandIn();
let s3: LocalS3;

/**
 * A recording whose job was started `minutesAgo` (row `in_progress` since then) and which Transcribe holds.
 * The row is inserted with its age: an UPDATE would reset updated_at through the trigger.
 */
async function startedJob(minutesAgo: number) {
  const recordingId = await insertRecording(testDb.db);
  const jobName = `pedro-test-recording-${recordingId}`;
  const outputKey = `transcripts/twilio/2025/03/${recordingId}.json`;
  await testDb.db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, language, created_at, updated_at)
     VALUES ($1, 'in_progress', $2, $3, 'en-US', now() - make_interval(mins => $4), now() - make_interval(mins => $4))`,
    [recordingId, jobName, outputKey, minutesAgo],
  );
  transcribe.seedJob(jobName);
  return { recordingId, jobName, outputKey };
}

/**
 * A start claimed `minutesAgo` by a worker that then died: the row is still `starting`, its lease run out
 * `expiredMinutesAgo` minutes ago (negative: still running). Transcribe holds the job only if the test seeds it.
 */
async function abandonedStart(minutesAgo: number, expiredMinutesAgo = 1) {
  const recordingId = await insertRecording(testDb.db);
  const jobName = `pedro-test-recording-${recordingId}`;
  const outputKey = `transcripts/twilio/2025/03/${recordingId}.json`;
  await testDb.db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, claimed_until, created_at, updated_at)
     VALUES ($1, 'starting', $2, $3, now() - make_interval(mins => $5), now() - make_interval(mins => $4),
       now() - make_interval(mins => $4))`,
    [recordingId, jobName, outputKey, minutesAgo, expiredMinutesAgo],
  );
  return { recordingId, jobName, outputKey };
}

/** Transcribe finished the job and wrote its (redacted) transcript where the request asked. */
async function finishedJob(job: { jobName: string; outputKey: string }, text: string) {
  await s3.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: job.outputKey,
      Body: JSON.stringify({
        results: { transcripts: [{ transcript: text }], items: [] },
        status: 'COMPLETED',
      }),
    }),
  );
  transcribe.seedJob(job.jobName, {
    TranscriptionJobStatus: 'COMPLETED',
    LanguageCode: 'es-US',
    Transcript: {
      RedactedTranscriptFileUri: `https://s3.us-east-1.amazonaws.com/${BUCKET}/${job.outputKey}`,
    },
  });
}

beforeAll(async () => {
  s3 = await startLocalS3([BUCKET]);
  process.env.S3_ENDPOINT = s3.endpoint;
  resetS3Client();
});
afterAll(async () => {
  resetS3Client();
  await s3?.close();
});
beforeEach(async () => {
  transcribe.reset();
  vi.restoreAllMocks();
  useConfig({ STAGE: 'test', RECORDINGS_BUCKET: BUCKET, ENABLE_TRANSCRIPTION: 'true' });
  // Each test sees only its own jobs.
  await testDb.db.query(`UPDATE transcriptions SET status = 'completed' WHERE status = 'in_progress'`);
});

describe('transcription sweeper', () => {
  it('writes a job whose event was lost, and the late event then stores nothing twice', async () => {
    // Prepare
    const job = await startedJob(45);
    await finishedJob(job, 'Necesito cambiar mi cita del [PII].');
    const metricNames = countedMetrics();

    // Act
    const swept = await sweep();
    const late = await writeEvent({
      source: 'aws.transcribe',
      'detail-type': 'Transcribe Job State Change',
      detail: { TranscriptionJobName: job.jobName, TranscriptionJobStatus: 'COMPLETED' },
    });

    // Assess
    expect(swept).toEqual({
      checked: 1,
      completed: 1,
      failed: 0,
      running: 0,
      missing: 0,
      released: 0,
      errors: 0,
    });
    expect(late).toMatchObject({ status: 'completed', stored: false });
    expect(await transcriptionRow(testDb.db, job.recordingId)).toMatchObject({
      status: 'completed',
      text: 'Necesito cambiar mi cita del [PII].',
      language: 'es-US',
    });
    expect(metricNames().filter((name) => name === 'TranscriptionCompleted')).toHaveLength(1);
  });

  it('records the reason of a job that failed', async () => {
    // Prepare
    const job = await startedJob(60);
    transcribe.fail(job.jobName, 'The media file is too short.');

    // Act
    const swept = await sweep();

    // Assess
    expect(swept).toMatchObject({ checked: 1, failed: 1 });
    expect(await transcriptionRow(testDb.db, job.recordingId)).toMatchObject({
      status: 'failed',
      failure_reason: 'The media file is too short.',
    });
  });

  it('leaves a job Transcribe is still working on, and moves it to the back of the line', async () => {
    // Prepare
    const job = await startedJob(40);

    // Act
    const first = await sweep();
    const second = await sweep();

    // Assess
    expect(first).toEqual({
      checked: 1,
      completed: 0,
      failed: 0,
      running: 1,
      missing: 0,
      released: 0,
      errors: 0,
    });
    expect(second.checked).toBe(0);
    expect((await transcriptionRow(testDb.db, job.recordingId))!.status).toBe('in_progress');
  });

  it('does not look at a job younger than 30 minutes', async () => {
    // Prepare
    const job = await startedJob(10);
    await finishedJob(job, 'Hello.');

    // Act
    const swept = await sweep();

    // Assess
    expect(swept.checked).toBe(0);
    expect(transcribe.mock.calls()).toHaveLength(0);
    expect((await transcriptionRow(testDb.db, job.recordingId))!.status).toBe('in_progress');
  });

  it('fails a job Transcribe no longer knows', async () => {
    // Prepare
    const job = await startedJob(60 * 24 * 91);
    transcribe.reset(); // Transcribe forgot it.

    // Act
    const swept = await sweep();

    // Assess
    expect(swept).toMatchObject({ checked: 1, missing: 1 });
    expect(await transcriptionRow(testDb.db, job.recordingId)).toMatchObject({
      status: 'failed',
      failure_reason: 'transcription job not found at Transcribe',
    });
  });

  it('goes on past a job it cannot check now and checks it again next run', async () => {
    // Prepare: the stalest job is checked first and Transcribe throttles that one call.
    const throttled = await startedJob(50);
    const done = await startedJob(40);
    await finishedJob(throttled, 'one');
    await finishedJob(done, 'two');
    transcribe.refuseNextGet(
      new LimitExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }),
    );

    // Act
    const run1 = await sweep();
    const run2 = await sweep();

    // Assess
    expect(run1).toEqual({
      checked: 2,
      completed: 1,
      failed: 0,
      running: 0,
      missing: 0,
      released: 0,
      errors: 1,
    });
    expect(run2).toEqual({
      checked: 1,
      completed: 1,
      failed: 0,
      running: 0,
      missing: 0,
      released: 0,
      errors: 0,
    });
    expect((await transcriptionRow(testDb.db, throttled.recordingId))!.text).toBe('one');
    expect((await transcriptionRow(testDb.db, done.recordingId))!.text).toBe('two');
  });

  it('reads the transcript where the started request told Transcribe to write it', async () => {
    // Prepare: a job started as the recording worker starts it, finished, its event lost.
    const recordingId = await insertRecording(testDb.db);
    const jobName = `pedro-test-recording-${recordingId}`;
    const config = useConfig({ STAGE: 'test', RECORDINGS_BUCKET: BUCKET, ENABLE_TRANSCRIPTION: 'true' });
    const store = recordingStore(config);
    await startTranscription(testDb.db, config, store, {
      id: recordingId,
      provider: 'twilio',
      providerRecordingId: 'RE0123',
      storageKey: 'recordings/twilio/2025/03/RE0123.mp3',
      createdAt: new Date('2025-03-04T10:00:00Z'),
    });
    transcribe.complete(jobName);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'transcripts/twilio/2025/03/RE0123.json',
        Body: JSON.stringify({ results: { transcripts: [{ transcript: 'Call me back.' }] } }),
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));

    // Act
    const swept = await sweepStaleTranscriptions(testDb.db, config, store, { olderThanMinutes: 0.001 });

    // Assess
    expect(swept).toEqual({
      checked: 1,
      completed: 1,
      failed: 0,
      running: 0,
      missing: 0,
      released: 0,
      errors: 0,
    });
    expect(await transcriptionRow(testDb.db, recordingId)).toMatchObject({
      status: 'completed',
      text: 'Call me back.',
      language: 'en-US',
    });
  });

  it('adopts a start whose worker died after Transcribe took the job', async () => {
    // Prepare
    const job = await abandonedStart(10);
    transcribe.seedJob(job.jobName, { LanguageCode: 'es-US' });

    // Act
    const swept = await sweep();

    // Assess
    expect(swept).toEqual({
      checked: 1,
      completed: 0,
      failed: 0,
      running: 1,
      missing: 0,
      released: 0,
      errors: 0,
    });
    expect(transcribe.startRequests()).toHaveLength(0);
    expect(await transcriptionRow(testDb.db, job.recordingId)).toMatchObject({
      status: 'in_progress',
      language: 'es-US',
    });
  });

  it('writes the outcome of an abandoned start whose job finished, its event lost', async () => {
    // Prepare
    const job = await abandonedStart(45);
    await finishedJob(job, 'Llámeme, por favor.');

    // Act
    const swept = await sweep();

    // Assess
    expect(swept).toMatchObject({ checked: 1, completed: 1 });
    expect(await transcriptionRow(testDb.db, job.recordingId)).toMatchObject({
      status: 'completed',
      text: 'Llámeme, por favor.',
    });
  });

  it('releases an abandoned start Transcribe never received, so the next delivery starts the job', async () => {
    // Prepare
    const job = await abandonedStart(10);
    const config = useConfig({ STAGE: 'test', RECORDINGS_BUCKET: BUCKET, ENABLE_TRANSCRIPTION: 'true' });

    // Act
    const swept = await sweep();
    const afterSweep = await transcriptionRow(testDb.db, job.recordingId);
    const started = await startTranscription(testDb.db, config, recordingStore(config), {
      id: job.recordingId,
      provider: 'twilio',
      providerRecordingId: String(job.recordingId),
      storageKey: `recordings/twilio/2025/03/${job.recordingId}.mp3`,
      createdAt: new Date('2025-03-04T10:00:00Z'),
    });

    // Assess
    expect(swept).toEqual({
      checked: 1,
      completed: 0,
      failed: 0,
      running: 0,
      missing: 0,
      released: 1,
      errors: 0,
    });
    expect(afterSweep).toBeUndefined();
    expect(started).toEqual({ status: 'in_progress', jobName: job.jobName });
    expect(transcribe.startRequests()).toHaveLength(1);
  });

  it('does not look at a start whose claim is still held', async () => {
    // Prepare: claimed an hour ago by a worker that may still be waiting on Transcribe.
    const job = await abandonedStart(60, -2);

    // Act
    const swept = await sweep();

    // Assess
    expect(swept.checked).toBe(0);
    expect(transcribe.mock.calls()).toHaveLength(0);
    expect((await transcriptionRow(testDb.db, job.recordingId))!.status).toBe('starting');
  });
});
