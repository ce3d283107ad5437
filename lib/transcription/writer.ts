import { GetTranscriptionJobCommand, type TranscriptionJob } from '@aws-sdk/client-transcribe';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import type { RecordingStore } from '../recordings/store.js';
import { transcribeClient } from './client.js';
import { parseTranscriptionJobName } from './job-name.js';
import { recordOutcome, transcriptOutputKey } from './repository.js';
import { parseS3Uri } from './s3-uri.js';

/** The EventBridge "Transcribe Job State Change" event (the parts we read). */
export interface TranscribeJobStateChange {
  'detail-type'?: string;
  source?: string;
  detail: {
    TranscriptionJobName: string;
    TranscriptionJobStatus: string;
    FailureReason?: string;
  };
}

export type WriterResult =
  | { status: 'ignored'; reason: string }
  | { status: 'completed' | 'failed'; recordingId: number; jobName: string; stored: boolean };

/** Transcribe's output file: one transcript per channel/segment in `results.transcripts`. */
export function transcriptText(json: string): string {
  const parsed = JSON.parse(json) as { results?: { transcripts?: { transcript?: string }[] } };
  return (parsed.results?.transcripts ?? [])
    .map((item) => item.transcript ?? '')
    .join(' ')
    .trim();
}

/**
 * Writes a finished job into `transcriptions`: COMPLETED → the (PII-redacted) text and language read from the
 * transcript JSON, FAILED → the failure reason. Jobs that are not ours (other name or stage) are ignored.
 * The EventBridge event and the sweeper both come here; `known` is the job the sweeper already read. Writing
 * twice stores once (a completed row is final), and the metrics count only what was stored.
 */
export async function writeTranscriptionOutcome(
  db: Db,
  config: Config,
  store: RecordingStore,
  event: TranscribeJobStateChange,
  known?: TranscriptionJob,
): Promise<WriterResult> {
  const jobName = event.detail?.TranscriptionJobName ?? '';
  const parsed = parseTranscriptionJobName(jobName);
  if (!parsed || parsed.stage !== transcriptionStage(config))
    return { status: 'ignored', reason: 'not our job' };
  const { recordingId } = parsed;
  const state = event.detail.TranscriptionJobStatus;

  if (state === 'FAILED') {
    let reason = event.detail.FailureReason ?? known?.FailureReason;
    if (!reason) {
      const answer = await transcribeClient().send(
        new GetTranscriptionJobCommand({ TranscriptionJobName: jobName }),
      );
      reason = answer.TranscriptionJob?.FailureReason;
    }
    const stored = await recordOutcome(db, {
      recordingId,
      jobName,
      status: 'failed',
      failureReason: (reason ?? 'unknown').slice(0, 500),
    });
    if (stored) countMetric('TranscriptionFailed', { stage: 'job' });
    logger.warn('transcription failed', { recordingId, jobName, reason });
    return { status: 'failed', recordingId, jobName, stored };
  }
  if (state !== 'COMPLETED') return { status: 'ignored', reason: `state ${state}` };

  const job =
    known ??
    (await transcribeClient().send(new GetTranscriptionJobCommand({ TranscriptionJobName: jobName })))
      .TranscriptionJob;
  const location =
    parseS3Uri(job?.Transcript?.RedactedTranscriptFileUri ?? job?.Transcript?.TranscriptFileUri) ??
    (await fallbackLocation(db, store, jobName));
  if (!location) throw new Error(`transcript location unknown for ${jobName}`);
  const text = transcriptText(await store.getText(location.key, location.bucket));
  const stored = await recordOutcome(db, {
    recordingId,
    jobName,
    status: 'completed',
    text,
    language: job?.LanguageCode,
  });
  if (stored) countMetric('TranscriptionCompleted', { language: job?.LanguageCode ?? 'unknown' });
  logger.info('transcription stored', {
    recordingId,
    jobName,
    language: job?.LanguageCode,
    chars: text.length,
  });
  return { status: 'completed', recordingId, jobName, stored };
}

async function fallbackLocation(db: Db, store: RecordingStore, jobName: string) {
  const key = await transcriptOutputKey(db, jobName);
  return key && store.bucket ? { bucket: store.bucket, key } : undefined;
}

/** Job names carry the stage in the form transcriptionJobName wrote it. */
export function transcriptionStage(config: Config): string {
  return config.stage.replace(/[^0-9A-Za-z._-]/g, '-');
}
