import { randomBytes } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import type { Db } from '../../../lib/db/index.js';
import type { TwilioRecordingJob, VoipmsRecordingJob } from '../../../lib/recordings/index.js';
import { fakeSid } from '../../support/twilio.js';

/** A fake mp3: an ID3 header then random bytes (contents only need to survive the round trip). */
export const fakeMp3 = (bytes = 4096): Buffer => Buffer.concat([Buffer.from('ID3'), randomBytes(bytes - 3)]);

export interface RecordingRowInput {
  provider?: 'twilio' | 'voipms';
  providerRecordingId?: string;
  providerCallId?: string | null;
  status?: string;
  storageKey?: string | null;
  createdAt?: Date;
}

/** A `recordings` row as the recording-status route or poller leaves it; returns its id. */
export async function insertRecording(db: Db, input: RecordingRowInput = {}): Promise<number> {
  const provider = input.provider ?? 'twilio';
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, status, storage_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [
      provider,
      input.providerRecordingId ??
        (provider === 'twilio' ? fakeSid('RE') : `MTA${randomBytes(6).toString('hex')}`),
      input.providerCallId === undefined ? fakeSid('CA') : input.providerCallId,
      input.status ?? 'completed',
      input.storageKey ?? null,
      input.createdAt ?? new Date(),
    ],
  );
  return Number(rows[0]!.id);
}

export async function recordingRow(db: Db, id: number) {
  const { rows } = await db.query<{
    status: string;
    error_code: string | null;
    storage_key: string | null;
    size_bytes: string | null;
    content_type: string | null;
    archived_at: Date | null;
    provider_deleted_at: Date | null;
    provider_recording_id: string;
    provider_call_id: string | null;
  }>('SELECT * FROM recordings WHERE id = $1', [id]);
  return rows[0];
}

export async function transcriptionRow(db: Db, recordingId: number) {
  const { rows } = await db.query<{
    status: string;
    job_name: string;
    text: string | null;
    language: string | null;
    failure_reason: string | null;
    output_key: string | null;
    call_id: string | null;
    caller_number: string | null;
  }>('SELECT * FROM transcriptions WHERE recording_id = $1', [recordingId]);
  return rows[0];
}

/** A Twilio job for an existing row (the row's ids are read back so the two agree). */
export async function twilioJobFor(db: Db, recordingId: number, recordingUrl: (sid: string) => string) {
  const row = await recordingRow(db, recordingId);
  const job: TwilioRecordingJob = {
    provider: 'twilio',
    recordingId,
    providerRecordingId: row!.provider_recording_id,
    recordingUrl: recordingUrl(row!.provider_recording_id),
    callSid: row!.provider_call_id ?? fakeSid('CA'),
  };
  return job;
}

export const voipmsJob = (recordingId: number, providerRecordingId: string): VoipmsRecordingJob => ({
  provider: 'voipms',
  recordingId,
  providerRecordingId,
});

let messageCounter = 0;
/** An SQS event as Lambda hands it to the worker, one record per body. */
export function sqsEvent(...bodies: unknown[]): SQSEvent {
  return {
    Records: bodies.map((body) => {
      messageCounter += 1;
      return {
        messageId: `msg-${messageCounter}`,
        receiptHandle: `rh-${messageCounter}`,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:recordings',
        awsRegion: 'us-east-1',
      };
    }),
  };
}
