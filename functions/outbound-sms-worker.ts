import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { deliverOutboundSms, type OutboundSmsJob } from '../lib/messages/outbound.js';
import { countMetric, logger } from '../lib/observability.js';

const processor = new BatchProcessor(EventType.SQS);

function parseJob(body: string): OutboundSmsJob | undefined {
  try {
    const job = JSON.parse(body) as Partial<OutboundSmsJob>;
    if (
      (job.provider === 'twilio' || job.provider === 'voipms') &&
      typeof job.to === 'string' &&
      typeof job.body === 'string' &&
      job.body !== ''
    ) {
      return {
        provider: job.provider,
        to: job.to,
        from: job.from ?? '',
        body: job.body,
        kind: job.kind ?? 'other',
      };
    }
  } catch {
    // Fall through: a malformed job can never succeed.
  }
  return undefined;
}

/** Sends one queued text; throws (the record is retried, then dead-lettered) only for retryable failures. */
async function sendRecord(record: SQSRecord): Promise<void> {
  const job = parseJob(record.body);
  if (!job) {
    logger.error('malformed outbound SMS job dropped', { messageId: record.messageId });
    countMetric('OutboundSms', { outcome: 'malformed' });
    return;
  }
  const outcome = await deliverOutboundSms(await getDb(), await getConfig(), job);
  countMetric('OutboundSms', { provider: job.provider, kind: job.kind, outcome });
}

/** Texts we start ourselves (missed-call text-back), sent through the provider's API with partial batch failures. */
export const handler = async (event: SQSEvent) => {
  const result = await processPartialResponse(event, sendRecord, processor);
  if (result.batchItemFailures.length)
    logger.warn('outbound SMS retries', { failed: result.batchItemFailures.length });
  return result;
};
