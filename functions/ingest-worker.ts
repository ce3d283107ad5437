import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { getDb } from '../lib/db/index.js';
import type { IngestJob } from '../lib/ingest/action.js';
import { ingestActions } from '../lib/ingest/registry.js';
import { countMetric, logger } from '../lib/observability.js';

const processor = new BatchProcessor(EventType.SQS);

/** Writes events deferred while Postgres was down, through the same idempotent actions the webhooks use. */
async function writeDeferredEvent(record: SQSRecord): Promise<void> {
  const job = JSON.parse(record.body) as IngestJob;
  const action = ingestActions.get(job.action);
  if (!action) {
    // Unknown action: a newer webhook deployed before this worker. Fail so it waits in the DLQ, not lost.
    throw new Error(`unknown ingest action ${job.action}`);
  }
  await action.run(await getDb(), job.event as never, { replay: true });
  countMetric('IngestWritten', { action: job.action });
}

export const handler = async (event: SQSEvent) => {
  // Report failures per record even when all failed: only they are retried, and the reason is logged here.
  const result = await processPartialResponse(event, writeDeferredEvent, processor, {
    throwOnFullBatchFailure: false,
  });
  if (result.batchItemFailures.length)
    logger.warn('ingest retries', { failed: result.batchItemFailures.length });
  return result;
};
