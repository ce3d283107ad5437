import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { countMetric, logger } from '../lib/observability.js';
import {
  archiveRecording,
  InvalidRecordingJobError,
  parseRecordingJob,
  recordingSettings,
  recordingStore,
} from '../lib/recordings/index.js';

const processor = new BatchProcessor(EventType.SQS);

/** One job; a throw marks only this record as failed, so SQS retries it alone (then its DLQ). */
async function processRecord(record: SQSRecord): Promise<void> {
  let job: ReturnType<typeof parseRecordingJob>;
  try {
    job = parseRecordingJob(record.body);
  } catch (error) {
    if (!(error instanceof InvalidRecordingJobError)) throw error;
    // A malformed job fails the same way forever: drop it, loudly.
    countMetric('RecordingJobInvalid');
    logger.error('invalid recording job dropped', { messageId: record.messageId, error: error.message });
    return;
  }
  const config = await getConfig();
  const outcome = await archiveRecording(job, {
    db: await getDb(),
    config,
    store: recordingStore(config),
    settings: recordingSettings(),
  });
  logger.debug('recording job done', {
    messageId: record.messageId,
    recordingId: job.recordingId,
    outcome: outcome.status,
  });
}

/** SQS "recordings" → archive each recording (and start its transcription), partial batch failures reported. */
export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, processRecord, processor, {
    ...(context ? { context } : {}),
    // A batch where every record failed is still answered with its item failures, not a thrown error.
    throwOnFullBatchFailure: false,
  });
