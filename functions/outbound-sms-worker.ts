import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { parseStoredTextJob } from '../lib/messages/outbound.js';
import { sendStoredText } from '../lib/messages/send.js';
import { countMetric, logger } from '../lib/observability.js';
import { twilioTextSender } from '../lib/twilio/text-sender.js';
import { voipmsClientFromConfig } from '../lib/voipms/outbound.js';
import { voipmsTextSender } from '../lib/voipms/text-sender.js';

const processor = new BatchProcessor(EventType.SQS);

/** Sends one stored text; throws (the record is retried, then dead-lettered) only while it may still go. */
async function sendRecord(record: SQSRecord): Promise<void> {
  const job = parseStoredTextJob(record.body);
  if (!job) {
    logger.error('malformed outbound SMS job dropped', { messageId: record.messageId });
    countMetric('OutboundSms', { outcome: 'malformed' });
    return;
  }
  const config = await getConfig();
  const sender =
    job.provider === 'twilio'
      ? twilioTextSender(config)
      : voipmsTextSender(voipmsClientFromConfig(config), config.voipms.did);
  const outcome = await sendStoredText(await getDb(), job.messageId, sender);
  countMetric('OutboundSms', { provider: job.provider, outcome });
}

/** Every text we send ourselves, stored first as an outbound row, sent once with partial batch failures. */
export const handler = async (event: SQSEvent) => {
  // Report failures per record even when all failed: only they are retried, and the reason is logged here.
  const result = await processPartialResponse(event, sendRecord, processor, {
    throwOnFullBatchFailure: false,
  });
  if (result.batchItemFailures.length)
    logger.warn('outbound SMS retries', { failed: result.batchItemFailures.length });
  return result;
};
