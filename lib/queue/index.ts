import { getConfig } from '../config.js';
import { localQueues } from './local.js';

export { localQueues } from './local.js';

/** The queues of the system; each has a dead-letter queue on AWS. */
export type QueueName = 'outboundSms' | 'recordings' | 'ingest';

export class QueueUnavailableError extends Error {
  constructor(queue: QueueName, cause: unknown) {
    super(`queue ${queue} unavailable: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'QueueUnavailableError';
  }
}

type SqsModule = typeof import('@aws-sdk/client-sqs');
let sqs: Promise<{ module: SqsModule; client: InstanceType<SqsModule['SQSClient']> }> | undefined;

function sqsClient() {
  // The AWS SDK ships with the Lambda runtime; imported lazily so handlers that never queue pay nothing.
  sqs ??= import('@aws-sdk/client-sqs').then((module) => ({
    module,
    client: new module.SQSClient({
      maxAttempts: 2,
      ...(process.env.SQS_ENDPOINT ? { endpoint: process.env.SQS_ENDPOINT } : {}),
    }),
  }));
  return sqs;
}

/** Puts one message on a queue: SQS when its URL is configured, else the in-process local queue. */
export async function sendMessage(queue: QueueName, body: unknown, options: { delaySeconds?: number } = {}) {
  const config = await getConfig();
  const url = config.queues[queue];
  const payload = JSON.stringify(body);
  try {
    if (!url) return localQueues.send(queue, payload, options.delaySeconds ?? 0);
    const { module, client } = await sqsClient();
    await client.send(
      new module.SendMessageCommand({
        QueueUrl: url,
        MessageBody: payload,
        DelaySeconds: options.delaySeconds,
      }),
    );
  } catch (error) {
    throw new QueueUnavailableError(queue, error);
  }
}
