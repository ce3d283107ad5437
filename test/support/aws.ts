import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';

/** The part of s3rver's API the tests use (the package ships no types). */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverServer;
const s3rverModule = 's3rver';

/** Credentials the local stand-ins accept (s3rver checks signatures made with these). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

/** Points the SDK's default credential and region chain at the local stand-ins. */
export function useLocalAwsEnv(): void {
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

const portOf = (server: Server | AddressInfo): number =>
  'port' in server ? server.port : (server.address() as AddressInfo).port;

export interface LocalS3 {
  endpoint: string;
  client: S3Client;
  close(): Promise<void>;
}

/** s3rver on 127.0.0.1, an ephemeral port and a throw-away directory, with the given buckets. */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  useLocalAwsEnv();
  const directory = await mkdtemp(join(tmpdir(), 'pw-s3-'));
  const { default: S3rver } = (await import(s3rverModule)) as { default: S3rverCtor };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${portOf(address)}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  return {
    endpoint,
    client,
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface LocalSqs {
  endpoint: string;
  client: SQSClient;
  /** Creates a queue; with `deadLetter`, also its DLQ and a redrive policy after `maxReceiveCount` receives. */
  createQueue(
    name: string,
    options?: { visibilityTimeout?: number; deadLetter?: { name: string; maxReceiveCount: number } },
  ): Promise<{ url: string; arn: string; dlqUrl?: string }>;
  close(): Promise<void>;
}

/** local-aws-sqs on 127.0.0.1 and an ephemeral port. */
export async function startLocalSqs(): Promise<LocalSqs> {
  useLocalAwsEnv();
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  } as Parameters<typeof createSqsServer>[0]);
  const endpoint = `http://127.0.0.1:${portOf(server)}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const arnOf = async (url: string) =>
    (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn as string;
  return {
    endpoint,
    client,
    async createQueue(name, options = {}) {
      const attributes: Record<string, string> = {
        VisibilityTimeout: String(options.visibilityTimeout ?? 30),
      };
      let dlqUrl: string | undefined;
      if (options.deadLetter) {
        dlqUrl = (await client.send(new CreateQueueCommand({ QueueName: options.deadLetter.name })))
          .QueueUrl as string;
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: await arnOf(dlqUrl),
          maxReceiveCount: options.deadLetter.maxReceiveCount,
        });
      }
      const url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
        .QueueUrl as string;
      return { url, arn: await arnOf(url), dlqUrl };
    },
    async close() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type BatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface PollResult {
  received: number;
  messageIds: string[];
  failures: string[];
}

/**
 * One poll of the Lambda SQS event source: receive up to `max` messages, invoke the handler with them and
 * delete the ones that succeeded. Failures stay in flight until the visibility timeout, as on AWS, unless
 * `retryAfterSeconds` shortens it (local-aws-sqs counts that change as a receive, so DLQ tests leave it unset).
 */
export async function pollOnce(
  sqs: LocalSqs,
  queueUrl: string,
  handler: BatchHandler,
  options: { max?: number; retryAfterSeconds?: number; waitSeconds?: number } = {},
): Promise<PollResult> {
  const answer = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.max ?? 10,
      WaitTimeSeconds: options.waitSeconds ?? 1,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = answer.Messages ?? [];
  if (messages.length === 0) return { received: 0, messageIds: [], failures: [] };
  const arn = `arn:aws:sqs:${LOCAL_REGION}:123456789012:${queueUrl.split('/').pop()}`;
  const records: SQSRecord[] = messages.map((message) => ({
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body as string,
    attributes: {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: LOCAL_REGION,
  }));
  let failures: string[];
  try {
    const response = await handler({ Records: records });
    failures = response?.batchItemFailures.map((failure) => failure.itemIdentifier) ?? [];
  } catch {
    failures = records.map((record) => record.messageId);
  }
  for (const record of records) {
    if (failures.includes(record.messageId)) {
      if (options.retryAfterSeconds === undefined) continue;
      await sqs.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: options.retryAfterSeconds ?? 0,
        }),
      );
    } else {
      await sqs.client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }),
      );
    }
  }
  return { received: records.length, messageIds: records.map((record) => record.messageId), failures };
}

/** Every message currently visible on a queue (received and left in flight). */
export async function receiveAll(
  sqs: LocalSqs,
  queueUrl: string,
  waitSeconds = 1,
): Promise<{ body: string; id: string }[]> {
  const answer = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
  );
  return (answer.Messages ?? []).map((message) => ({
    body: message.Body as string,
    id: message.MessageId as string,
  }));
}
