import { sqsSendMessage } from '../aws/sqs.js';
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

/** Puts one message on a queue: SQS when its URL is configured, else (never on Lambda) the in-process local queue. */
export async function sendMessage(queue: QueueName, body: unknown, options: { delaySeconds?: number } = {}) {
  const config = await getConfig();
  const url = config.queues[queue];
  const payload = JSON.stringify(body);
  try {
    if (!url) {
      // On Lambda a message kept in memory is lost when the container is frozen: the configuration requires
      // every queue URL there, and this refuses rather than pretend.
      if (config.onLambda) throw new Error(`no URL configured for queue ${queue}`);
      return localQueues.send(queue, payload, options.delaySeconds ?? 0);
    }
    // A small signed request rather than the SQS client: the first invocation does not pay an SDK import.
    await sqsSendMessage(
      { queueUrl: url, body: payload, delaySeconds: options.delaySeconds },
      { timeoutMs: config.queueTimeoutMs },
    );
  } catch (error) {
    throw new QueueUnavailableError(queue, error);
  }
}
