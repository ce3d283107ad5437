import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { deliverOutboundSms, type OutboundSmsJob } from '../lib/messages/outbound.js';
import { countMetric, logger } from '../lib/observability.js';
import { isVoipmsOutboundJob, sendVoipmsMessage, voipmsClientFromConfig } from '../lib/voipms/outbound.js';

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

function storedVoipmsReply(body: string) {
  try {
    const job: unknown = JSON.parse(body);
    return isVoipmsOutboundJob(job) ? job : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one queued text; throws (the record is retried, then dead-lettered) only for retryable failures. */
async function sendRecord(record: SQSRecord): Promise<void> {
  const stored = storedVoipmsReply(record.body);
  if (stored) {
    // A VoIP.ms reply already stored as a pending row by the inbound route: claimed, sent and marked there.
    const config = await getConfig();
    const result = await sendVoipmsMessage(stored, {
      db: await getDb(),
      client: voipmsClientFromConfig(config),
    });
    countMetric('OutboundSms', {
      provider: 'voipms',
      kind: stored.kind ?? 'auto-reply',
      outcome: result.outcome,
    });
    return;
  }
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
  // Report failures per record even when all failed: only they are retried, and the reason is logged here.
  const result = await processPartialResponse(event, sendRecord, processor, {
    throwOnFullBatchFailure: false,
  });
  if (result.batchItemFailures.length)
    logger.warn('outbound SMS retries', { failed: result.batchItemFailures.length });
  return result;
};
