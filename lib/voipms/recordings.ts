import type { Db, Queryable } from '../db/index.js';
import { BadRequestError } from '../http/errors.js';
import type { WebhookRequest } from '../http/request.js';
import { defineAction } from '../ingest/action.js';
import { handOnRecordings } from '../recordings/follow-up.js';
import { clockToSeconds } from './cdr.js';
import type { VoipmsRecordingRecord } from './client.js';
import { wallClockToInstant } from './time.js';

/** A `getCallRecordings` entry in our recording shape. */
export interface NormalizedRecording {
  providerRecordingId: string;
  /** Needed again to fetch the file with getCallRecording. */
  account: string | null;
  direction: 'inbound' | 'outbound';
  destination: string;
  startedAt: Date | null;
  durationSeconds: number;
}

export function normalizeRecording(
  record: VoipmsRecordingRecord,
  options: { timeZone: string },
): NormalizedRecording {
  return {
    providerRecordingId: String(record.callrecording),
    account: record.subaccount ? String(record.subaccount) : null,
    direction: /^in/i.test(String(record.type ?? '')) ? 'inbound' : 'outbound',
    destination: String(record.destination ?? ''),
    startedAt: wallClockToInstant(String(record.datetime ?? ''), options.timeZone) ?? null,
    durationSeconds: clockToSeconds(String(record.duration ?? '')),
  };
}

/** A VoIP.ms recording to store and hand to the recording worker. */
export interface VoipmsRecordingRef {
  providerRecordingId: string;
  account?: string | null;
  providerCallId?: string | null;
  durationSeconds?: number | null;
}

export interface StoredVoipmsRecording {
  recordingId: number;
  providerRecordingId: string;
  account: string | null;
  /** Inserted by this call (and so to be queued), rather than seen before. */
  isNew: boolean;
}

/**
 * Inserts recordings once per (voipms, callrecording) in one statement; returns every one with its row id,
 * flagged new or not, so only new ones are queued.
 */
export async function insertVoipmsRecordings(
  db: Queryable,
  refs: readonly VoipmsRecordingRef[],
): Promise<StoredVoipmsRecording[]> {
  const unique = [...new Map(refs.map((ref) => [ref.providerRecordingId, ref])).values()];
  if (unique.length === 0) return [];
  const { rows } = await db.query<{
    id: string;
    provider_recording_id: string;
    provider_account: string | null;
    is_new: boolean;
  }>(
    `WITH ins AS (
       INSERT INTO recordings (provider, provider_recording_id, provider_account, provider_call_id, duration_seconds,
         status)
       SELECT 'voipms', r.id, r.account, r.call_id, r.seconds, 'completed'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[]) AS r (id, account, call_id, seconds)
       ON CONFLICT (provider, provider_recording_id) DO NOTHING
       RETURNING id, provider_recording_id, provider_account
     )
     SELECT id, provider_recording_id, provider_account, true AS is_new FROM ins
     UNION ALL
     SELECT r.id, r.provider_recording_id, r.provider_account, false FROM recordings r
     WHERE r.provider = 'voipms' AND r.provider_recording_id = ANY ($1::text[])`,
    [
      unique.map((ref) => ref.providerRecordingId),
      unique.map((ref) => ref.account ?? null),
      unique.map((ref) => ref.providerCallId ?? null),
      unique.map((ref) => ref.durationSeconds ?? null),
    ],
  );
  return rows.map((row) => ({
    recordingId: Number(row.id),
    providerRecordingId: row.provider_recording_id,
    account: row.provider_account,
    isNew: row.is_new,
  }));
}

/**
 * Hands the new recordings to the recording worker. A stored row not yet archived is itself the job (the
 * follow-up outbox): if the queue refuses one, the relay hands it on later, so none is stored without a job.
 */
export async function queueNewRecordings(stored: readonly StoredVoipmsRecording[]): Promise<number> {
  const fresh = stored.filter((recording) => recording.isNew);
  await handOnRecordings(
    fresh.map((recording) => ({
      provider: 'voipms' as const,
      recordingId: recording.recordingId,
      providerRecordingId: recording.providerRecordingId,
      ...(recording.account ? { account: recording.account } : {}),
    })),
  );
  return fresh.length;
}

/** `POST /webhooks/voipms/recording/ready`: `callrecording` required; account, date and call id optional. */
export function parseRecordingReady(request: WebhookRequest): VoipmsRecordingRef {
  const value = (key: string): string | undefined => {
    const raw = request.fields[key]?.[0] ?? request.query[key]?.[0];
    const text = raw?.trim();
    return text ? text : undefined;
  };
  const providerRecordingId = value('callrecording') ?? value('recording_id') ?? value('id');
  if (!providerRecordingId) throw new BadRequestError('callrecording is required');
  return {
    providerRecordingId,
    account: value('account') ?? value('subaccount') ?? null,
    providerCallId: value('uniqueid') ?? value('callid') ?? value('call_id') ?? null,
  };
}

/** A pushed recording reference: stored once, queued once. The row id is the answer's `recordingId`. */
export const storeRecordingReady = defineAction(
  'voipms.recording-ready',
  async (db: Db, ref: VoipmsRecordingRef): Promise<number | null> => {
    const stored = await insertVoipmsRecordings(db, [ref]);
    await queueNewRecordings(stored);
    return stored[0]?.recordingId ?? null;
  },
);
