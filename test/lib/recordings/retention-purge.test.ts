import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/retention-purge.js';
import {
  createLocalStore,
  recordingKey,
  resetS3Client,
  transcriptKey,
} from '../../../lib/recordings/index.js';
import { type LocalS3, startLocalS3 } from '../../support/aws.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { fakeMp3, insertRecording } from './factories.js';

const BUCKET = 'pedro-test-purge';
const DAY = 86_400_000;
const testDb = useTestDb();
let s3: LocalS3;

const exists = async (key: string) => {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
};

/** An archived recording of `ageDays`, with its transcript; the files are written by `put`. */
async function archived(ageDays: number, put: (key: string, body: Buffer) => Promise<void>) {
  const createdAt = new Date(Date.now() - ageDays * DAY);
  const providerRecordingId = `RE${ageDays}x${Math.random().toString(16).slice(2, 10)}`;
  const audioKey = recordingKey('twilio', providerRecordingId, createdAt);
  const textKey = transcriptKey('twilio', providerRecordingId, createdAt);
  const id = await insertRecording(testDb.db, {
    providerRecordingId,
    storageKey: audioKey,
    createdAt,
    status: 'archived',
  });
  await testDb.db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, text, created_at)
     VALUES ($1, 'completed', $2, $3, 'redacted words', $4)`,
    [id, `pedro-test-recording-${id}`, textKey, createdAt],
  );
  await put(audioKey, fakeMp3(1024));
  await put(textKey, Buffer.from('{"results":{"transcripts":[]}}'));
  return { id, audioKey, textKey };
}

async function webhookLog(ageDays: number) {
  await testDb.db.query(
    `INSERT INTO webhook_logs (provider, endpoint, method, status_code, created_at)
     VALUES ('twilio', 'twilio/sms/status', 'POST', 204, $1)`,
    [new Date(Date.now() - ageDays * DAY)],
  );
}

const count = async (table: string) =>
  Number((await testDb.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

beforeAll(async () => {
  s3 = await startLocalS3([BUCKET]);
  process.env.S3_ENDPOINT = s3.endpoint;
  resetS3Client();
});
afterAll(async () => {
  resetS3Client();
  await s3?.close();
});

describe('retention purge on S3', () => {
  beforeEach(() => {
    useConfig({ RECORDINGS_BUCKET: BUCKET, RECORDING_RETENTION_DAYS: '30' });
  });

  it('removes recordings, transcripts and webhook logs past the retention, keeps the rest, logs the run', async () => {
    // Prepare
    const put = async (key: string, body: Buffer) => {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    };
    const old = await archived(45, put);
    const recent = await archived(5, put);
    const failedOld = await insertRecording(testDb.db, {
      status: 'failed',
      createdAt: new Date(Date.now() - 40 * DAY),
    });
    await webhookLog(31);
    await webhookLog(1);

    // Act
    const result = await handler();

    // Assess
    expect(result).toMatchObject({
      retentionDays: 30,
      recordings: 2,
      transcriptions: 1,
      objects: 2,
      objectsFailed: 0,
      webhookLogs: 1,
    });
    expect(await exists(old.audioKey)).toBe(false);
    expect(await exists(old.textKey)).toBe(false);
    expect(await exists(recent.audioKey)).toBe(true);
    expect(await exists(recent.textKey)).toBe(true);
    const { rows } = await testDb.db.query<{ id: string }>('SELECT id FROM recordings ORDER BY id');
    expect(rows.map((row) => Number(row.id))).toEqual([recent.id]);
    expect(failedOld).not.toBe(recent.id);
    expect(await count('transcriptions')).toBe(1);
    expect(await count('webhook_logs')).toBe(1);
    const log = await testDb.db.query(
      'SELECT recordings, transcriptions, objects, webhook_logs FROM purge_log ORDER BY id DESC LIMIT 1',
    );
    expect(log.rows).toEqual([{ recordings: 2, transcriptions: 1, objects: 2, webhook_logs: 1 }]);
  });

  it('is a no-op with nothing old enough', async () => {
    // Prepare
    await webhookLog(2);

    // Act
    const result = await handler();

    // Assess
    expect(result).toMatchObject({ recordings: 0, objects: 0, webhookLogs: 0 });
    expect(await count('webhook_logs')).toBe(1);
  });
});

describe('retention purge in the local run', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pw-purge-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('deletes the files under DATA_DIR', async () => {
    // Prepare
    useConfig({ RECORDINGS_BUCKET: undefined, DATA_DIR: dataDir, RECORDING_RETENTION_DAYS: '30' });
    const store = createLocalStore(dataDir);
    const put = async (key: string, body: Buffer) => {
      await store.put(key, body, { contentType: 'audio/mpeg', maxBytes: 1e6 });
    };
    const old = await archived(60, put);
    const recent = await archived(1, put);

    // Act
    const result = await handler();

    // Assess
    expect(result).toMatchObject({ recordings: 1, objects: 2 });
    await expect(readFile(join(dataDir, old.audioKey))).rejects.toThrow();
    expect((await readFile(join(dataDir, recent.audioKey))).length).toBe(1024);
  });
});
