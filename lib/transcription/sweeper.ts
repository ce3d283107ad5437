import { GetTranscriptionJobCommand, type TranscriptionJob } from '@aws-sdk/client-transcribe';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import type { RecordingStore } from '../recordings/store.js';
import { transcribeClient } from './client.js';
import { parseTranscriptionJobName } from './job-name.js';
import {
  adoptAbandonedStart,
  dropAbandonedStart,
  recordOutcome,
  staleTranscriptions,
  touchTranscription,
} from './repository.js';
import { transcriptionStage, writeTranscriptionOutcome } from './writer.js';

export interface SweepOptions {
  /** A job is looked at once its row has been `in_progress` this long. Default 30 minutes. */
  olderThanMinutes?: number;
  /** Jobs checked per run (GetTranscriptionJob calls). Default 50. */
  limit?: number;
}

export interface SweepResult {
  checked: number;
  completed: number;
  failed: number;
  /** Transcribe is still working on them (QUEUED, IN_PROGRESS): looked at again on a later run. */
  running: number;
  /** Transcribe no longer knows the job (deleted, or past its 90-day history): recorded as failed. */
  missing: number;
  /** Abandoned starts Transcribe never received: the claim row is removed, so a later delivery starts the job. */
  released: number;
  /** Could not be checked now (throttled, network): left for the next run. */
  errors: number;
}

/** A sweep that checked nothing (and the count each sweep starts from). */
export function noSweep(): SweepResult {
  return { checked: 0, completed: 0, failed: 0, running: 0, missing: 0, released: 0, errors: 0 };
}

export const SWEEP_DEFAULTS = { olderThanMinutes: 30, limit: 50 } as const;

/**
 * Finishes the transcription jobs whose "Job State Change" event never reached the writer (the writer failed
 * through every retry, or the event was lost): each `in_progress` row older than the threshold is checked
 * with GetTranscriptionJob and a finished job is written by the writer's own code, so the event path and the
 * sweep may both run for a job and it is stored once. A `starting` row whose claim ran out (its worker died
 * around StartTranscriptionJob) is checked the same way, as Transcribe may hold its job all the same.
 */
export async function sweepStaleTranscriptions(
  db: Db,
  config: Config,
  store: RecordingStore,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const olderThanMinutes = options.olderThanMinutes ?? SWEEP_DEFAULTS.olderThanMinutes;
  const limit = options.limit ?? SWEEP_DEFAULTS.limit;
  if (!(olderThanMinutes > 0) || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError('sweep: olderThanMinutes must be > 0 and limit a positive integer');
  }
  const result = noSweep();
  const stage = transcriptionStage(config);
  for (const row of await staleTranscriptions(db, { olderThanMinutes, limit })) {
    // Another stage sharing the database owns its own rows.
    if (parseTranscriptionJobName(row.jobName)?.stage !== stage) continue;
    result.checked++;
    let job: TranscriptionJob | undefined;
    try {
      job = (
        await transcribeClient().send(new GetTranscriptionJobCommand({ TranscriptionJobName: row.jobName }))
      ).TranscriptionJob;
    } catch (error) {
      if (isJobNotFound(error)) {
        if (row.status === 'starting') {
          await dropAbandonedStart(db, row.recordingId);
          result.released++;
          continue;
        }
        await recordOutcome(db, {
          recordingId: row.recordingId,
          jobName: row.jobName,
          status: 'failed',
          failureReason: 'transcription job not found at Transcribe',
        });
        result.missing++;
        continue;
      }
      result.errors++;
      logger.warn('transcription sweep could not check a job', {
        jobName: row.jobName,
        error: (error as Error)?.name,
      });
      continue;
    }
    const state = job?.TranscriptionJobStatus;
    if (state !== 'COMPLETED' && state !== 'FAILED') {
      if (row.status === 'starting') await adoptAbandonedStart(db, row.recordingId, job?.LanguageCode);
      else await touchTranscription(db, row.recordingId);
      result.running++;
      continue;
    }
    try {
      await writeTranscriptionOutcome(
        db,
        config,
        store,
        {
          detail: {
            TranscriptionJobName: row.jobName,
            TranscriptionJobStatus: state,
            ...(job?.FailureReason ? { FailureReason: job.FailureReason } : {}),
          },
        },
        job,
      );
      if (state === 'COMPLETED') result.completed++;
      else result.failed++;
    } catch (error) {
      // One unreadable transcript must not stop the rest; the row stays in_progress for the next run.
      result.errors++;
      logger.error('transcription sweep could not write a job', {
        jobName: row.jobName,
        error: (error as Error)?.message,
      });
    }
  }
  if (result.completed + result.failed + result.missing > 0) {
    countMetric('TranscriptionSwept', {}, result.completed + result.failed + result.missing);
  }
  logger.info('transcription sweep', { ...result });
  return result;
}

/** GetTranscriptionJob on an unknown name: BadRequestException "The requested job couldn't be found". */
function isJobNotFound(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return (
    (e?.name === 'BadRequestException' || e?.name === 'NotFoundException') &&
    /couldn't be found|could not be found|not found/i.test(e?.message ?? '')
  );
}
