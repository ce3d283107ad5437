import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName } from '../queue/index.js';
import { MessageStore, type StoredMessage } from '../queue/local-store.js';

export const QUEUE_NAMES: readonly QueueName[] = ['outboundSms', 'recordings', 'ingest'];

/** One dead letter as the CLI shows it: what kind of job, when, how often tried; the body only on request. */
export interface DeadLetterRow {
  queue: string;
  id: string;
  job: string;
  receives: number | string;
  sent: string;
  /** Local only: when it was dead-lettered, and the worker's last error if it threw. */
  dead?: string;
  error?: string;
  body?: string;
}

/**
 * What a job is, without the patient's data: the ingest action or the text's provider and kind. Bodies hold
 * phone numbers and message text, so they are printed only with --body.
 */
export function describeJob(body: string): string {
  try {
    const job = JSON.parse(body) as Record<string, unknown>;
    const parts = [job.action, job.provider, job.kind].filter((part) => typeof part === 'string');
    if (parts.length) return parts.join(' ');
    if (job.recordingId !== undefined || job.providerRecordingId !== undefined) return 'recording';
    return 'job';
  } catch {
    return 'unreadable';
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

function localRow(queue: string, message: StoredMessage, withBody: boolean): DeadLetterRow {
  return {
    queue,
    id: message.id,
    job: describeJob(message.body),
    receives: message.receiveCount,
    sent: iso(message.sentAt),
    dead: iso(message.deadAt),
    error: message.lastError ?? '',
    ...(withBody ? { body: message.body } : {}),
  };
}

/** The dead letters `npm start` kept under its queue directory. */
export function listLocalDeadLetters(
  directory: string,
  options: { queue?: QueueName; body?: boolean } = {},
): DeadLetterRow[] {
  const store = new MessageStore(directory);
  return (options.queue ? [options.queue] : QUEUE_NAMES).flatMap((queue) =>
    store.dead(queue).map((message) => localRow(queue, message, Boolean(options.body))),
  );
}

/**
 * Moves local dead letters back to their queue with a fresh receive count. A running `npm start` picks them up
 * within seconds; otherwise the next start does.
 */
export function redriveLocalDeadLetters(
  directory: string,
  options: { queue?: QueueName } = {},
): { queue: string; moved: number }[] {
  const store = new MessageStore(directory);
  return (options.queue ? [options.queue] : QUEUE_NAMES).map((queue) => ({
    queue,
    moved: store.redrive(queue).length,
  }));
}

export interface AwsQueue {
  queue: QueueName;
  url: string;
}

interface DeadLetterQueue {
  sourceArn: string;
  dlqArn: string;
  dlqUrl: string;
}

type Sqs = typeof import('@aws-sdk/client-sqs');

/** The dead-letter queue of a source queue, from its redrive policy (no extra configuration needed). */
async function deadLetterQueueOf(sqs: Sqs, client: SQSClient, url: string): Promise<DeadLetterQueue> {
  const { Attributes } = await client.send(
    new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'RedrivePolicy'] }),
  );
  const policy = Attributes?.RedrivePolicy ? JSON.parse(Attributes.RedrivePolicy) : undefined;
  if (!policy?.deadLetterTargetArn)
    throw new Error(`queue ${url} has no dead-letter queue (no RedrivePolicy)`);
  const dlqArn = String(policy.deadLetterTargetArn);
  const [, , , , account, name] = dlqArn.split(':');
  const { QueueUrl } = await client.send(
    new sqs.GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  return { sourceArn: Attributes!.QueueArn!, dlqArn, dlqUrl: QueueUrl! };
}

/**
 * Peeks at the messages of each queue's DLQ: received with a zero visibility timeout, so they stay where they
 * are, and repeated until no new one shows up (SQS returns a sample per receive).
 */
export async function listAwsDeadLetters(
  client: SQSClient,
  queues: AwsQueue[],
  options: { body?: boolean; limit?: number } = {},
): Promise<DeadLetterRow[]> {
  const sqs = await import('@aws-sdk/client-sqs');
  const limit = options.limit ?? 100;
  const rows: DeadLetterRow[] = [];
  for (const { queue, url } of queues) {
    const { dlqUrl } = await deadLetterQueueOf(sqs, client, url);
    const seen = new Set<string>();
    for (let round = 0; round < 10 && seen.size < limit; round++) {
      const { Messages = [] } = await client.send(
        new sqs.ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          // The older name of the same request, for endpoints that only know it.
          AttributeNames: ['All'],
        }),
      );
      let fresh = 0;
      for (const message of Messages) {
        // One receive may hand out the same message twice (visibility 0): show it once.
        if (seen.has(message.MessageId!)) continue;
        seen.add(message.MessageId!);
        fresh += 1;
        rows.push({
          queue,
          id: message.MessageId!,
          job: describeJob(message.Body ?? ''),
          receives: message.Attributes?.ApproximateReceiveCount ?? '',
          sent: iso(Number(message.Attributes?.SentTimestamp) || undefined),
          ...(options.body ? { body: message.Body ?? '' } : {}),
        });
      }
      if (fresh === 0) break;
    }
  }
  return rows;
}

export interface AwsRedrive {
  queue: QueueName;
  /** `move-task` (SQS StartMessageMoveTask) or `copied` (receive, send, delete: where move tasks are missing). */
  how: 'move-task' | 'copied';
  taskHandle?: string;
  moved?: number;
}

/**
 * Sends each DLQ's messages back to its source queue with StartMessageMoveTask, the way the console's
 * "Start DLQ redrive" does. If the endpoint does not offer move tasks, copies them: send to the source, then
 * delete from the DLQ (a crash in between leaves a duplicate, never a loss; the workers are idempotent).
 */
export async function redriveAwsDeadLetters(
  client: SQSClient,
  queues: AwsQueue[],
  options: { useMoveTask?: boolean } = {},
): Promise<AwsRedrive[]> {
  const sqs = await import('@aws-sdk/client-sqs');
  const results: AwsRedrive[] = [];
  for (const { queue, url } of queues) {
    const dlq = await deadLetterQueueOf(sqs, client, url);
    if (options.useMoveTask !== false) {
      try {
        const { TaskHandle } = await client.send(
          new sqs.StartMessageMoveTaskCommand({ SourceArn: dlq.dlqArn, DestinationArn: dlq.sourceArn }),
        );
        results.push({ queue, how: 'move-task', taskHandle: TaskHandle });
        continue;
      } catch (error) {
        if (!isUnsupported(error)) throw error;
      }
    }
    results.push({ queue, how: 'copied', moved: await copyBack(sqs, client, dlq.dlqUrl, url) });
  }
  return results;
}

function isUnsupported(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  return /UnsupportedOperation|InvalidAction|UnknownOperation|NotImplemented/i.test(name);
}

async function copyBack(sqs: Sqs, client: SQSClient, dlqUrl: string, sourceUrl: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await client.send(
      new sqs.ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return moved;
    for (const message of Messages) {
      await client.send(new sqs.SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: message.Body ?? '' }));
      await client.send(
        new sqs.DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }),
      );
      moved += 1;
    }
  }
}
