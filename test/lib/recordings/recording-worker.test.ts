import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BadRequestException, LimitExceededException } from '@aws-sdk/client-transcribe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/recording-worker.js';
import { localQueues, sendMessage } from '../../../lib/queue/index.js';
import { resetS3Client, s3Client } from '../../../lib/recordings/index.js';
import { type FakeVoipms, startFakeVoipms } from '../../fakes/voipms-api.js';
import {
  type LocalS3,
  type LocalSqs,
  pollOnce,
  receiveAll,
  startLocalS3,
  startLocalSqs,
  transcribeStandIn,
} from '../../support/aws.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { useSqsLikeQueue } from '../queue/sqs-like.js';
import {
  fakeMp3,
  insertRecording,
  recordingRow,
  sqsEvent,
  transcriptionRow,
  twilioJobFor,
  voipmsJob,
} from './factories.js';
import { type FakeRecordingServer, startFakeRecordingServer } from './fake-recording-server.js';

const BUCKET = 'pedro-test-recordings';
const testDb = useTestDb();
const transcribe = transcribeStandIn();
let s3: LocalS3;
let sqs: LocalSqs;
let twilio: FakeRecordingServer;
let voipms: FakeVoipms;
let queueUrl: string;

const objectBytes = async (key: string): Promise<Buffer> => {
  const answer = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
};
const keysUnder = async (prefix: string): Promise<string[]> =>
  ((await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map(
    (object) => object.Key as string,
  );
const startCalls = () => transcribe.startRequests();

/** A Twilio recording row, its job, and the fake serving `mp3` for it. */
async function twilioRecording(
  mp3: Buffer | { status: number } = fakeMp3(),
  options: { chunked?: boolean } = {},
) {
  const id = await insertRecording(testDb.db);
  const job = await twilioJobFor(testDb.db, id, twilio.recordingUrl);
  twilio.serve(job.providerRecordingId, Buffer.isBuffer(mp3) ? { mp3, ...options } : mp3);
  return { id, job, mp3: Buffer.isBuffer(mp3) ? mp3 : undefined };
}

beforeAll(async () => {
  [s3, sqs, twilio, voipms] = await Promise.all([
    startLocalS3([BUCKET]),
    startLocalSqs(),
    startFakeRecordingServer(TEST_ACCOUNT_SID),
    startFakeVoipms(),
  ]);
  process.env.S3_ENDPOINT = s3.endpoint;
  process.env.SQS_ENDPOINT = sqs.endpoint;
  resetS3Client();
  queueUrl = (await sqs.createQueue('recordings', { visibilityTimeout: 30 })).url;
});

afterAll(async () => {
  resetS3Client();
  await Promise.all([s3?.close(), sqs?.close(), twilio?.close(), voipms?.close()]);
});

beforeEach(() => {
  transcribe.reset();
  delete process.env.RECORDINGS_MAX_BYTES;
  delete process.env.RECORDINGS_KMS_KEY_ID;
  useConfig(workerEnv());
});

const workerEnv = () => ({
  STAGE: 'test',
  TWILIO_API_BASE_URL: twilio.origin,
  RECORDINGS_BUCKET: BUCKET,
  RECORDINGS_QUEUE_URL: queueUrl,
  ENABLE_TRANSCRIPTION: 'true',
  VOIPMS_API_URL: voipms.url,
  VOIPMS_USERNAME: voipms.username,
  VOIPMS_PASSWORD: voipms.password,
});

afterEach(async () => {
  // Nothing may be left in flight between tests.
  while (
    (await pollOnce(sqs, queueUrl, async () => ({ batchItemFailures: [] }), { waitSeconds: 0 })).received > 0
  );
});

describe('recording worker: Twilio', () => {
  it('archives a recording queued by the callback route: S3 object, row, transcription started', async () => {
    // Prepare
    const { id, job, mp3 } = await twilioRecording(fakeMp3(150_000));
    await sendMessage('recordings', job);

    // Act
    const poll = await pollOnce(sqs, queueUrl, handler);

    // Assess
    expect(poll).toMatchObject({ received: 1, failures: [] });
    const row = await recordingRow(testDb.db, id);
    const now = new Date();
    const month = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(row).toMatchObject({
      status: 'archived',
      error_code: null,
      storage_key: `recordings/twilio/${month}/${job.providerRecordingId}.mp3`,
      content_type: 'audio/mpeg',
    });
    expect(Number(row!.size_bytes)).toBe(mp3!.length);
    expect(row!.archived_at).not.toBeNull();
    expect((await objectBytes(row!.storage_key!)).equals(mp3!)).toBe(true);
    const [download] = twilio.downloadsOf(job.providerRecordingId);
    expect(download!.authorization).toBe(
      `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(startCalls()).toEqual([
      {
        TranscriptionJobName: `pedro-test-recording-${id}`,
        Media: { MediaFileUri: `s3://${BUCKET}/${row!.storage_key}` },
        MediaFormat: 'mp3',
        LanguageCode: 'en-US',
        ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted' },
        OutputBucketName: BUCKET,
        OutputKey: `transcripts/twilio/${month}/${job.providerRecordingId}.json`,
      },
    ]);
    expect(transcribe.job(`pedro-test-recording-${id}`)?.TranscriptionJobStatus).toBe('IN_PROGRESS');
    expect(await transcriptionRow(testDb.db, id)).toMatchObject({
      status: 'in_progress',
      job_name: `pedro-test-recording-${id}`,
      language: 'en-US',
    });
    expect(await receiveAll(sqs, queueUrl)).toEqual([]);
    expect(twilio.deletesOf(job.providerRecordingId)).toEqual([]);
  });

  it('does not download or transcribe twice when the job is delivered again', async () => {
    // Prepare
    const { id, job } = await twilioRecording();
    await handler(sqsEvent(job));

    // Act
    const again = await handler(sqsEvent(job));

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(twilio.downloadsOf(job.providerRecordingId)).toHaveLength(1);
    expect(startCalls()).toHaveLength(1);
    expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
  });

  it('downloads once when two deliveries of the job run at the same time (the row is claimed)', async () => {
    // Prepare
    const { id, job } = await twilioRecording();

    // Act
    const results = await Promise.all([handler(sqsEvent(job)), handler(sqsEvent(job))]);

    // Assess
    expect(results.map((result) => result.batchItemFailures)).toEqual([[], []]);
    expect(twilio.downloadsOf(job.providerRecordingId)).toHaveLength(1);
    expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
  });

  it('retries only the failing record of a batch of ten read from SQS', async () => {
    // Prepare
    const good = [];
    for (let i = 0; i < 9; i++) good.push(await twilioRecording());
    const bad = await twilioRecording({ status: 503 });
    const jobs = [...good.slice(0, 4), bad, ...good.slice(4)].map((r) => r.job);
    for (const job of jobs) await sendMessage('recordings', job);

    // Act
    const poll = await pollOnce(sqs, queueUrl, handler, { retryAfterSeconds: 0 });

    // Assess
    expect(poll.received).toBe(10);
    const badMessageId = poll.messageIds[4];
    expect(poll.failures).toEqual([badMessageId]);
    for (const { id } of good) expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
    expect(await recordingRow(testDb.db, bad.id)).toMatchObject({ status: 'completed', storage_key: null });
    const left = await receiveAll(sqs, queueUrl);
    expect(left.map((m) => m.id)).toEqual([badMessageId]);
    expect(JSON.parse(left[0]!.body)).toEqual(bad.job);
  });

  it.each([
    [404, 'not_found'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
  ])('records a %i download as a permanent failure and does not retry it', async (status, reason) => {
    // Prepare
    const { id, job } = await twilioRecording({ status });

    // Act
    const result = await handler(sqsEvent(job));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({
      status: 'failed',
      error_code: reason,
      storage_key: null,
    });
    expect(await keysUnder('recordings/')).not.toContain(expect.stringContaining(job.providerRecordingId));
    expect(startCalls()).toHaveLength(0);
  });

  it('retries a 5xx download without marking the recording failed', async () => {
    // Prepare
    const { id, job } = await twilioRecording({ status: 500 });
    const event = sqsEvent(job);

    // Act
    const result = await handler(event);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({ status: 'completed', error_code: null });
  });

  it.each([
    ['declared by Content-Length', false],
    ['only seen while streaming', true],
  ])('fails an oversized recording (%s) as too_large and keeps nothing', async (_label, chunked) => {
    // Prepare
    process.env.RECORDINGS_MAX_BYTES = '100000';
    const { id, job } = await twilioRecording(fakeMp3(250_000), { chunked });

    // Act
    const result = await handler(sqsEvent(job));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({ status: 'failed', error_code: 'too_large' });
    expect((await keysUnder('recordings/')).filter((key) => key.includes(job.providerRecordingId))).toEqual(
      [],
    );
  });

  it('never sends credentials to a recording URL outside the Twilio API origin', async () => {
    // Prepare
    const { id, job } = await twilioRecording();
    const elsewhere = {
      ...job,
      recordingUrl: `https://recordings.example.test/Recordings/${job.providerRecordingId}`,
    };
    const before = twilio.requests.length;

    // Act
    const result = await handler(sqsEvent(elsewhere));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({
      status: 'failed',
      error_code: 'untrusted_url',
    });
    expect(twilio.requests.length).toBe(before);
  });

  it('deletes the Twilio copy after archiving when the practice asks for it', async () => {
    // Prepare
    await testDb.db.query(
      "UPDATE voip_settings SET delete_provider_recordings = true WHERE phone_number = '*'",
    );
    const { id, job } = await twilioRecording();

    // Act
    await handler(sqsEvent(job));

    // Assess
    const row = await recordingRow(testDb.db, id);
    expect(row!.status).toBe('archived');
    expect(row!.provider_deleted_at).not.toBeNull();
    expect(twilio.deletesOf(job.providerRecordingId)).toHaveLength(1);
    await testDb.db.query(
      "UPDATE voip_settings SET delete_provider_recordings = false WHERE phone_number = '*'",
    );
  });

  it('asks S3 for SSE-KMS with the configured key', async () => {
    // Prepare
    process.env.RECORDINGS_KMS_KEY_ID =
      'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const seen: Record<string, unknown>[] = [];
    s3Client().middlewareStack.add(
      (next) => async (args) => {
        seen.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: 'initialize', name: 'captureInput' },
    );
    const { job } = await twilioRecording();

    // Act
    try {
      await handler(sqsEvent(job));
    } finally {
      s3Client().middlewareStack.remove('captureInput');
    }

    // Assess
    const put = seen.find((input) => String(input.Key).includes(job.providerRecordingId));
    expect(put).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
  });

  it('drops a malformed job without retrying it', async () => {
    // Act
    const result = await handler(sqsEvent('{"provider":"twilio"}', 'not json'));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
  });
});

describe('recording worker: transcription start', () => {
  it('retries a throttled start without downloading again', async () => {
    // Prepare
    const { id, job } = await twilioRecording();
    transcribe.refuseNextStart(
      new LimitExceededException({ message: 'too many jobs', $metadata: { httpStatusCode: 400 } }),
    );
    const first = sqsEvent(job);

    // Act
    const failed = await handler(first);
    const retried = await handler(sqsEvent(job));

    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: first.Records[0]!.messageId }]);
    expect(retried.batchItemFailures).toEqual([]);
    expect(twilio.downloadsOf(job.providerRecordingId)).toHaveLength(1);
    expect(startCalls()).toHaveLength(2);
    expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
    expect((await transcriptionRow(testDb.db, id))!.status).toBe('in_progress');
  });

  it('records a refused start as a failed transcription and keeps the recording', async () => {
    // Prepare
    const { id, job } = await twilioRecording();
    transcribe.refuseNextStart(
      new BadRequestException({ message: 'media too short', $metadata: { httpStatusCode: 400 } }),
    );

    // Act
    const result = await handler(sqsEvent(job));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
    expect(await transcriptionRow(testDb.db, id)).toMatchObject({
      status: 'failed',
      failure_reason: expect.stringContaining('media too short'),
    });
  });

  it('treats ConflictException as a job already started', async () => {
    // Prepare: an earlier attempt started the job but did not record its row.
    const { id, job } = await twilioRecording();
    transcribe.seedJob(`pedro-test-recording-${id}`);

    // Act
    const result = await handler(sqsEvent(job));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(startCalls()).toHaveLength(1);
    expect((await transcriptionRow(testDb.db, id))!.status).toBe('in_progress');
  });

  it('asks Transcribe to encrypt the transcript with the configured KMS key', async () => {
    // Prepare
    process.env.RECORDINGS_KMS_KEY_ID =
      'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { id, job } = await twilioRecording();

    // Act
    await handler(sqsEvent(job));

    // Assess
    expect(startCalls()).toHaveLength(1);
    expect(startCalls()[0]!.OutputEncryptionKMSKeyId).toBe(
      'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(startCalls()[0]!.ContentRedaction).toEqual({ RedactionType: 'PII', RedactionOutput: 'redacted' });
    expect((await transcriptionRow(testDb.db, id))!.status).toBe('in_progress');
  });

  it('starts nothing when transcription is off', async () => {
    // Prepare
    useConfig({
      TWILIO_API_BASE_URL: twilio.origin,
      RECORDINGS_BUCKET: BUCKET,
      ENABLE_TRANSCRIPTION: 'false',
    });
    const { id, job } = await twilioRecording();

    // Act
    await handler(sqsEvent(job));

    // Assess
    expect((await recordingRow(testDb.db, id))!.status).toBe('archived');
    expect(startCalls()).toHaveLength(0);
    expect(await transcriptionRow(testDb.db, id)).toBeUndefined();
  });
});

describe('recording worker: VoIP.ms', () => {
  it('archives the base64 mp3 from getCallRecording', async () => {
    // Prepare
    const mp3 = fakeMp3(20_000);
    const providerRecordingId = 'MTA5Nzk5LTUyMzQ1Ni0x';
    voipms.seedRecording({ id: providerRecordingId, datetime: '2025-01-15 10:00:00', mp3 });
    voipms.quirkyBase64(true);
    const id = await insertRecording(testDb.db, {
      provider: 'voipms',
      providerRecordingId,
      providerCallId: null,
    });

    // Act
    const result = await handler(sqsEvent({ ...voipmsJob(id, providerRecordingId), account: '100000' }));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(voipms.callsTo('getCallRecording').map((call) => call.params)).toEqual([
      { account: '100000', callrecording: providerRecordingId },
    ]);
    const row = await recordingRow(testDb.db, id);
    expect(row).toMatchObject({ status: 'archived', content_type: 'audio/mpeg' });
    expect(row!.storage_key).toMatch(/^recordings\/voipms\/\d{4}\/\d{2}\/MTA5Nzk5LTUyMzQ1Ni0x\.mp3$/);
    expect((await objectBytes(row!.storage_key!)).equals(mp3)).toBe(true);
  });

  it('records an unknown VoIP.ms recording as failed', async () => {
    // Prepare
    const id = await insertRecording(testDb.db, { provider: 'voipms', providerRecordingId: 'MTAnope' });

    // Act
    const result = await handler(sqsEvent({ ...voipmsJob(id, 'MTAnope'), account: '100000' }));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({
      status: 'failed',
      error_code: 'provider_error',
    });
  });

  it('keeps a recording with no account and none configured for a retry, asking VoIP.ms nothing', async () => {
    // Prepare: VoIP.ms requires the account; without one the job waits (DLQ, redrive) instead of failing.
    const providerRecordingId = 'MTAnoaccount';
    voipms.seedRecording({ id: providerRecordingId, datetime: '2025-01-15 10:00:00', mp3: fakeMp3() });
    const id = await insertRecording(testDb.db, { provider: 'voipms', providerRecordingId });
    const before = voipms.callsTo('getCallRecording').length;
    const event = sqsEvent(voipmsJob(id, providerRecordingId));

    // Act
    const result = await handler(event);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(voipms.callsTo('getCallRecording')).toHaveLength(before);
    expect(await recordingRow(testDb.db, id)).toMatchObject({ status: 'completed', storage_key: null });
  });
});

describe('recordings queue dead-letter queue', () => {
  it('moves a job that keeps failing to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const queue = await sqs.createQueue('recordings-redrive', {
      visibilityTimeout: 1,
      deadLetter: { name: 'recordings-redrive-dlq', maxReceiveCount: 3 },
    });
    const { id, job } = await twilioRecording({ status: 503 });
    useConfig({
      TWILIO_API_BASE_URL: twilio.origin,
      RECORDINGS_BUCKET: BUCKET,
      RECORDINGS_QUEUE_URL: queue.url,
    });
    await sendMessage('recordings', job);

    // Act: the event source polls; each failed message comes back when its 1 s visibility timeout ends.
    const polls = [];
    let dead: { body: string }[] = [];
    // (Short polls: a wait longer than the visibility timeout would see the same message twice in one call.)
    for (let i = 0; i < 40 && dead.length === 0; i++) {
      const poll = await pollOnce(sqs, queue.url, handler, { waitSeconds: 0 });
      if (poll.received > 0) polls.push(poll);
      else dead = await receiveAll(sqs, queue.dlqUrl!, 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Assess
    expect(polls).toHaveLength(3);
    expect(polls.every((poll) => poll.failures.length === 1)).toBe(true);
    expect(twilio.downloadsOf(job.providerRecordingId)).toHaveLength(3);
    expect(await receiveAll(sqs, queue.url, 0)).toEqual([]);
    expect(dead.map((m) => JSON.parse(m.body))).toEqual([job]);
    expect(await recordingRow(testDb.db, id)).toMatchObject({ status: 'completed', storage_key: null });
  });
});

describe('recording worker fed by the SQS-like local queue (redelivered, shuffled, batched)', () => {
  afterEach(() => localQueues.reset());

  /** Six Twilio and two VoIP.ms recordings, their jobs run through the SQS-like queue. */
  async function archiveThroughQueue() {
    useConfig({ ...workerEnv(), RECORDINGS_QUEUE_URL: undefined, VOIPMS_ACCOUNT: '100000' });
    const queue = useSqsLikeQueue('recordings', handler);
    const twilioJobs = [];
    for (let i = 0; i < 6; i++) twilioJobs.push((await twilioRecording()).job);
    const ids = twilioJobs.map((job) => job.recordingId);
    for (let i = 0; i < 2; i++) {
      const providerId = `MTA5Nzk5LTUyMzQ1Ni0${i}${Date.now()}`;
      voipms.seedRecording({ id: providerId, datetime: '2025-01-15 10:00:00', mp3: fakeMp3() });
      const id = await insertRecording(testDb.db, { provider: 'voipms', providerRecordingId: providerId });
      ids.push(id);
      await sendMessage('recordings', voipmsJob(id, providerId));
    }
    for (const job of twilioJobs) await sendMessage('recordings', job);
    await queue.settled();
    return { queue, twilioJobs, ids };
  }

  it('archives every recording, one object each, whatever the duplicates and order', async () => {
    const { queue, ids } = await archiveThroughQueue();

    expect(queue.duplicates()).toBeGreaterThan(0);
    expect(queue.deadLetters()).toEqual([]);
    const stored = [...(await keysUnder('recordings/twilio/')), ...(await keysUnder('recordings/voipms/'))];
    for (const id of ids) {
      const row = (await recordingRow(testDb.db, id))!;
      expect(row.status).toBe('archived');
      expect(stored.filter((key) => key === row.storage_key)).toHaveLength(1);
    }
    const names = startCalls().map((input) => input.TranscriptionJobName);
    expect(new Set(names).size).toBe(8);
  });

  it('downloads once and leaves one transcription job per recording under concurrent duplicates', async () => {
    const { twilioJobs, ids } = await archiveThroughQueue();

    for (const job of twilioJobs) expect(twilio.downloadsOf(job.providerRecordingId)).toHaveLength(1);
    // A duplicate that finds the audio already archived finds the start claimed too: Transcribe is asked once each.
    const names = new Set(startCalls().map((input) => input.TranscriptionJobName!));
    expect(names.size).toBe(8);
    expect(startCalls()).toHaveLength(8);
    for (const name of names) expect(transcribe.job(name)).toBeDefined();
    const { rows } = await testDb.db.query<{ recording_id: string; job_name: string; status: string }>(
      'SELECT recording_id::text, job_name, status FROM transcriptions ORDER BY recording_id',
    );
    expect(rows.map((row) => row.recording_id)).toEqual(
      ids.map(String).sort((a, b) => Number(a) - Number(b)),
    );
    expect(new Set(rows.map((row) => row.job_name))).toEqual(names);
    expect(rows.every((row) => row.status === 'in_progress')).toBe(true);
  });
});
