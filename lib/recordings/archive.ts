import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import { startTranscription, type TranscriptionStart } from '../transcription/start.js';
import {
  type Download,
  deleteTwilioRecording,
  deleteVoipmsRecording,
  downloadTwilioRecording,
  downloadVoipmsRecording,
} from './download.js';
import { PermanentRecordingError } from './errors.js';
import { claimRecording, releaseRecording } from './follow-up.js';
import type { RecordingJob } from './job.js';
import { recordingKey } from './keys.js';
import {
  findRecording,
  markArchived,
  markFailed,
  markProviderDeleted,
  type RecordingRow,
  shouldDeleteProviderCopy,
} from './repository.js';
import type { RecordingSettings } from './settings.js';
import type { RecordingStore } from './store.js';

export interface ArchiveDeps {
  db: Db;
  config: Config;
  store: RecordingStore;
  settings: RecordingSettings;
  fetch?: typeof globalThis.fetch;
}

export type ArchiveOutcome =
  | { status: 'archived' | 'already_archived'; storageKey: string; transcription: TranscriptionStart }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: 'no_such_recording' | 'job_does_not_match_row' | 'claimed_elsewhere' };

/**
 * One recording job: download the audio once, keep it in the store, record where, then (optionally) delete
 * the provider's copy and start transcription. A permanent failure is recorded on the row and returned; anything
 * else throws so the queue retries it. An already archived row is never downloaded again.
 */
export async function archiveRecording(job: RecordingJob, deps: ArchiveDeps): Promise<ArchiveOutcome> {
  const { db, config, store } = deps;
  const row = await findRecording(db, job.recordingId);
  if (!row) {
    logger.warn('recording job for a missing row', { recordingId: job.recordingId });
    return { status: 'skipped', reason: 'no_such_recording' };
  }
  if (row.provider !== job.provider || row.providerRecordingId !== job.providerRecordingId) {
    logger.error('recording job does not match its row', {
      recordingId: job.recordingId,
      provider: job.provider,
    });
    return { status: 'skipped', reason: 'job_does_not_match_row' };
  }
  const archived = { ...row, storageKey: row.storageKey ?? '' };

  if (row.storageKey) {
    // Redelivery: the audio is safe; only a transcription start that failed earlier may still be owed.
    const transcription = await startTranscription(db, config, store, archived);
    return { status: 'already_archived', storageKey: row.storageKey, transcription };
  }

  if (!(await claimRecording(db, row.id))) {
    // Another delivery of this job holds the row: it archives the audio once.
    return { status: 'skipped', reason: 'claimed_elsewhere' };
  }
  try {
    return await archiveClaimed(job, deps, row);
  } catch (error) {
    await releaseRecording(db, row.id);
    throw error;
  }
}

async function archiveClaimed(
  job: RecordingJob,
  deps: ArchiveDeps,
  row: RecordingRow,
): Promise<ArchiveOutcome> {
  const { db, config, store, settings } = deps;
  const archived = { ...row, storageKey: row.storageKey ?? '' };
  const storageKey = recordingKey(row.provider, row.providerRecordingId, row.createdAt);
  let stored: { sizeBytes: number };
  let contentType: string;
  try {
    const download: Download =
      job.provider === 'twilio'
        ? await downloadTwilioRecording(job, config, settings, deps.fetch)
        : await downloadVoipmsRecording(job, config);
    contentType = download.contentType;
    stored = await store.put(storageKey, download.body, { contentType, maxBytes: settings.maxBytes });
  } catch (error) {
    if (!(error instanceof PermanentRecordingError)) throw error;
    await markFailed(db, row.id, error.reason);
    countMetric('RecordingFailed', { provider: row.provider, reason: error.reason });
    logger.error('recording not archived', {
      recordingId: row.id,
      provider: row.provider,
      reason: error.reason,
    });
    return { status: 'failed', reason: error.reason };
  }
  if (stored.sizeBytes === 0) {
    await store.delete([storageKey]);
    await markFailed(db, row.id, 'empty');
    countMetric('RecordingFailed', { provider: row.provider, reason: 'empty' });
    return { status: 'failed', reason: 'empty' };
  }
  await markArchived(db, row.id, { storageKey, sizeBytes: stored.sizeBytes, contentType });
  countMetric('RecordingArchived', { provider: row.provider });
  logger.info('recording archived', {
    recordingId: row.id,
    provider: row.provider,
    sizeBytes: stored.sizeBytes,
  });

  await deleteProviderCopy(job, deps, row.id);
  archived.storageKey = storageKey;
  const transcription = await startTranscription(db, config, store, archived);
  return { status: 'archived', storageKey, transcription };
}

/** Best effort: our encrypted copy is safe, so a failed delete is logged and left to the provider's own retention. */
async function deleteProviderCopy(job: RecordingJob, deps: ArchiveDeps, recordingId: number): Promise<void> {
  if (!(await shouldDeleteProviderCopy(deps.db, job.provider))) return;
  try {
    if (job.provider === 'twilio') await deleteTwilioRecording(job, deps.config, deps.settings, deps.fetch);
    else await deleteVoipmsRecording(job, deps.config);
    await markProviderDeleted(deps.db, recordingId);
  } catch (error) {
    logger.warn('provider copy not deleted', {
      recordingId,
      provider: job.provider,
      error: (error as Error).message,
    });
  }
}
