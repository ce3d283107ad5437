import type { Queryable } from '../db/index.js';
import { logger } from '../observability.js';
import { sendMessage } from '../queue/index.js';
import type { RecordingJob } from './job.js';

/**
 * Hands archive jobs to the recording worker now. Best effort by design: a `completed` recording without a
 * storage key is the record of the job, and the follow-up relay hands on any the queue did not take.
 */
export async function handOnRecordings(jobs: readonly RecordingJob[]): Promise<void> {
  for (const job of jobs) {
    try {
      await sendMessage('recordings', job);
    } catch (error) {
      logger.warn('recording job left for the relay', {
        recordingId: job.recordingId,
        error: (error as Error).message,
      });
    }
  }
}

/** A recording row still waiting to be archived, as the relay reads it. */
export interface UnarchivedRecordingRow {
  id: number;
  provider: 'twilio' | 'voipms';
  provider_recording_id: string;
  provider_call_id: string | null;
  provider_account: string | null;
  media_url: string | null;
}

/** The archive job a waiting row stands for, or undefined when the row lacks what the job needs. */
export function recordingJobFor(row: UnarchivedRecordingRow): RecordingJob | undefined {
  if (row.provider === 'voipms') {
    return {
      provider: 'voipms',
      recordingId: Number(row.id),
      providerRecordingId: row.provider_recording_id,
      ...(row.provider_account ? { account: row.provider_account } : {}),
    };
  }
  if (!row.media_url || !row.provider_call_id) return undefined;
  return {
    provider: 'twilio',
    recordingId: Number(row.id),
    providerRecordingId: row.provider_recording_id,
    recordingUrl: row.media_url,
    callSid: row.provider_call_id,
  };
}

/** Longer than the recording worker's timeout and its queue's visibility timeout. */
export const ARCHIVE_LEASE_MS = 15 * 60_000;

/**
 * Takes the row for one archive attempt: only a row not yet archived and not held by a live attempt. A second
 * delivery of the same job finds it held and does nothing, so audio is downloaded and uploaded once.
 */
export async function claimRecording(db: Queryable, id: number): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE recordings SET claimed_until = now() + make_interval(secs => $2::double precision / 1000)
     WHERE id = $1 AND storage_key IS NULL AND (claimed_until IS NULL OR claimed_until < now())
     RETURNING id`,
    [id, ARCHIVE_LEASE_MS],
  );
  return rows.length > 0;
}

/** Lets a failed attempt's retry take the row at once instead of waiting out the lease. */
export async function releaseRecording(db: Queryable, id: number): Promise<void> {
  await db.query('UPDATE recordings SET claimed_until = NULL WHERE id = $1', [id]).catch(() => undefined);
}
