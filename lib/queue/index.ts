import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsSendMessage } from '../aws/sqs.js';
import { getConfig } from '../config.js';
import { logger } from '../observability.js';

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

type Consumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

interface LocalMessage {
  id: string;
  body: string;
  receiveCount: number;
}

/**
 * Queues for the local run and tests: messages go to a registered consumer (the same worker handler as on
 * Lambda) in batches, failed records are retried with backoff, and after five receives they move to a
 * local dead-letter list, as the SQS redrive policy does on AWS.
 */
class LocalQueues {
  private readonly consumers = new Map<QueueName, Consumer>();
  private readonly pending = new Map<QueueName, LocalMessage[]>();
  readonly deadLetters = new Map<QueueName, LocalMessage[]>();
  private sequence = 0;
  private inFlight = new Set<Promise<void>>();
  maxReceives = 5;
  retryDelayMs = 200;

  register(queue: QueueName, consumer: Consumer): void {
    this.consumers.set(queue, consumer);
  }

  send(queue: QueueName, body: string, delaySeconds: number): void {
    const message = { id: `local-${++this.sequence}`, body, receiveCount: 0 };
    this.deliver(queue, [message], delaySeconds * 1000);
  }

  /** Messages waiting on a queue with no consumer (tests read them). */
  messages(queue: QueueName): unknown[] {
    return (this.pending.get(queue) ?? []).map((message) => JSON.parse(message.body));
  }

  /** Removes and returns the waiting messages of a queue. */
  drain(queue: QueueName): unknown[] {
    const messages = this.messages(queue);
    this.pending.set(queue, []);
    return messages;
  }

  /** Resolves when every delivery started so far (and its retries) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    this.consumers.clear();
    this.pending.clear();
    this.deadLetters.clear();
  }

  private deliver(queue: QueueName, messages: LocalMessage[], delayMs: number): void {
    const consumer = this.consumers.get(queue);
    if (!consumer) {
      this.pending.set(queue, [...(this.pending.get(queue) ?? []), ...messages]);
      return;
    }
    const run = (async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      for (const message of messages) message.receiveCount += 1;
      let failedIds: Set<string>;
      try {
        const result = await consumer({ Records: messages.map((message) => toRecord(queue, message)) });
        failedIds = new Set(result?.batchItemFailures.map((failure) => failure.itemIdentifier) ?? []);
      } catch (error) {
        logger.error('local queue consumer failed', { queue, error: (error as Error).message });
        failedIds = new Set(messages.map((message) => message.id));
      }
      const failed = messages.filter((message) => failedIds.has(message.id));
      const retry = failed.filter((message) => message.receiveCount < this.maxReceives);
      const dead = failed.filter((message) => message.receiveCount >= this.maxReceives);
      if (dead.length) this.deadLetters.set(queue, [...(this.deadLetters.get(queue) ?? []), ...dead]);
      if (retry.length) this.deliver(queue, retry, this.retryDelayMs * 2 ** (retry[0]!.receiveCount - 1));
    })();
    this.inFlight.add(run);
    run.finally(() => this.inFlight.delete(run));
  }
}

function toRecord(queue: QueueName, message: LocalMessage): SQSRecord {
  return {
    messageId: message.id,
    receiptHandle: message.id,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queue}`,
    awsRegion: 'local',
  };
}

export const localQueues = new LocalQueues();
