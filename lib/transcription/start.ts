import { StartTranscriptionJobCommand } from '@aws-sdk/client-transcribe';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import { type RecordingProvider, transcriptKey } from '../recordings/keys.js';
import type { RecordingStore } from '../recordings/store.js';
import { transcribeClient } from './client.js';
import { transcriptionJobName } from './job-name.js';
import { chooseTranscriptionLanguage } from './language.js';
import {
  claimTranscriptionStart,
  findTranscription,
  finishTranscriptionStart,
  insertTranscription,
  releaseTranscriptionStart,
  type TranscriptionStatus,
} from './repository.js';

export interface ArchivedRecording {
  id: number;
  provider: RecordingProvider;
  providerRecordingId: string;
  storageKey: string;
  createdAt: Date;
}

export type TranscriptionStart =
  | { status: 'off' }
  | { status: TranscriptionStatus | 'started'; jobName: string; failureReason?: string };

/** Transcribe could not take the job now (throttled, its own fault, network): the message is retried. */
export class TranscriptionStartError extends Error {
  constructor(cause: unknown) {
    super(`transcription job could not be started: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'TranscriptionStartError';
  }
}

const RETRYABLE = new Set([
  'ThrottlingException',
  'LimitExceededException',
  'InternalFailureException',
  'ServiceUnavailableException',
  'TimeoutError',
]);

function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.$retryable) return true;
  if (e?.name && RETRYABLE.has(e.name)) return true;
  const status = e?.$metadata?.httpStatusCode;
  // No HTTP status at all: the request never got an answer (network).
  return status === undefined ? !e?.name?.endsWith('Exception') : status >= 500;
}

/**
 * Starts the recording's Transcribe job once: the job name comes from the recording id, and the start is claimed
 * in the recording's `transcriptions` row first, so of racing duplicates only the claimer calls Transcribe; the
 * others answer the row's state. A claimer that cannot reach Transcribe gives the claim up for the retry, one
 * whose worker died leaves it to run out (START_LEASE_MS). Transcribe's ConflictException still means "already
 * started" (a claimer that died after the call). Locally, with no bucket, a `disabled` row says transcription is
 * not available.
 */
export async function startTranscription(
  db: Db,
  config: Config,
  store: RecordingStore,
  recording: ArchivedRecording,
): Promise<TranscriptionStart> {
  if (!config.enableTranscription) return { status: 'off' };
  const jobName = transcriptionJobName(config.stage, recording.id);
  if (store.kind !== 's3' || !store.bucket) {
    const existing = await findTranscription(db, recording.id);
    if (existing) return existing;
    await insertTranscription(db, { recordingId: recording.id, jobName, status: 'disabled' });
    return { status: 'disabled', jobName };
  }

  const outputKey = transcriptKey(recording.provider, recording.providerRecordingId, recording.createdAt);
  const claim = await claimTranscriptionStart(db, { recordingId: recording.id, jobName, outputKey });
  if (!claim) {
    const existing = (await findTranscription(db, recording.id)) ?? { status: 'starting' as const, jobName };
    logger.info('transcription start already claimed', {
      recordingId: recording.id,
      status: existing.status,
    });
    return existing;
  }
  try {
    return await startClaimed(db, store, recording, { jobName, outputKey });
  } catch (error) {
    // No answer recorded: the retry claims at once rather than wait out the lease (a job Transcribe did take
    // answers it ConflictException).
    await releaseTranscriptionStart(db, recording.id, claim).catch(() => undefined);
    throw error;
  }
}

async function startClaimed(
  db: Db,
  store: RecordingStore,
  recording: ArchivedRecording,
  { jobName, outputKey }: { jobName: string; outputKey: string },
): Promise<TranscriptionStart> {
  const kmsKeyId = process.env.RECORDINGS_KMS_KEY_ID?.trim() || undefined;
  const { language, source } = await chooseTranscriptionLanguage(db, recording.id);
  try {
    await transcribeClient().send(
      new StartTranscriptionJobCommand({
        TranscriptionJobName: jobName,
        Media: { MediaFileUri: `s3://${store.bucket}/${recording.storageKey}` },
        MediaFormat: 'mp3',
        // One given language: batch PII redaction refuses language identification.
        LanguageCode: language,
        ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted' },
        OutputBucketName: store.bucket,
        OutputKey: outputKey,
        ...(kmsKeyId ? { OutputEncryptionKMSKeyId: kmsKeyId } : {}),
      }),
    );
  } catch (error) {
    const name = (error as Error)?.name;
    if (name !== 'ConflictException') {
      if (isRetryable(error)) throw new TranscriptionStartError(error);
      const failureReason = `${name}: ${(error as Error).message}`.slice(0, 500);
      await finishTranscriptionStart(db, {
        recordingId: recording.id,
        jobName,
        status: 'failed',
        outputKey,
        failureReason,
        language,
      });
      countMetric('TranscriptionFailed', { stage: 'start' });
      logger.error('transcription job refused', { recordingId: recording.id, jobName, error: failureReason });
      return { status: 'failed', jobName, failureReason };
    }
    // ConflictException: an earlier attempt started this job and died before recording it.
  }
  await finishTranscriptionStart(db, {
    recordingId: recording.id,
    jobName,
    status: 'in_progress',
    outputKey,
    language,
  });
  logger.info('transcription started', {
    recordingId: recording.id,
    jobName,
    language,
    languageSource: source,
  });
  return { status: 'in_progress', jobName };
}
