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
import {
  BadRequestException,
  ConflictException,
  GetTranscriptionJobCommand,
  type LanguageCode,
  StartTranscriptionJobCommand,
  type StartTranscriptionJobCommandInput,
  TranscribeClient,
  type TranscriptionJob,
} from '@aws-sdk/client-transcribe';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
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

// ---------------------------------------------------------------------------------------------------------
// Amazon Transcribe stand-in. Transcribe has no emulator, so the SDK client is mocked; the mock is strict:
// StartTranscriptionJob answers BadRequestException for what the service documents it refuses (API reference
// of StartTranscriptionJob and "Redacting PII in your batch job"), ConflictException for a name already used,
// and GetTranscriptionJob answers for the jobs it has, "couldn't be found" for others.
// ---------------------------------------------------------------------------------------------------------

/** MediaFormat values the API accepts. */
const MEDIA_FORMATS = ['mp3', 'mp4', 'wav', 'flac', 'ogg', 'amr', 'webm', 'm4a'];
/** "Redaction with batch transcriptions is available with US English (en-US) and US Spanish (es-US)." */
export const TRANSCRIBE_BATCH_REDACTION_LANGUAGES = ['en-US', 'es-US'];
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** The four documented ways to name the output KMS key: key id, key ARN, alias name, alias ARN. */
const KMS_KEY_SHAPES = [
  new RegExp(`^${UUID}$`),
  new RegExp(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/${UUID}$`),
  /^alias\/[a-zA-Z0-9/_-]{1,250}$/,
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:alias\/[a-zA-Z0-9/_-]{1,250}$/,
];

/**
 * Why Transcribe would refuse this StartTranscriptionJob request (empty when it would take it). Built from the
 * documented constraints, not from what our code happens to send.
 */
export function startTranscriptionJobProblems(input: StartTranscriptionJobCommandInput): string[] {
  const problems: string[] = [];
  const name = input.TranscriptionJobName ?? '';
  if (!/^[0-9a-zA-Z._-]{1,200}$/.test(name) || name === '.' || name === '..') {
    problems.push('TranscriptionJobName must be 1-200 of [0-9a-zA-Z._-] (not "." or "..")');
  }
  const uri = input.Media?.MediaFileUri ?? '';
  if (!/^(s3:\/\/|https?:\/\/).+/.test(uri) || uri.length > 2000) {
    problems.push('Media.MediaFileUri must be an s3:// or http(s):// URI of at most 2000 characters');
  }
  if (input.MediaFormat !== undefined && !MEDIA_FORMATS.includes(input.MediaFormat)) {
    problems.push(`MediaFormat must be one of ${MEDIA_FORMATS.join(', ')}`);
  }

  const identify = input.IdentifyLanguage === true;
  const identifyMany = input.IdentifyMultipleLanguages === true;
  const languageWays = [input.LanguageCode !== undefined, identify, identifyMany].filter(Boolean).length;
  if (languageWays !== 1) {
    problems.push('exactly one of LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages is required');
  }
  if (input.LanguageCode !== undefined && !/^[a-z]{2,3}-[A-Z]{2}$/.test(input.LanguageCode)) {
    problems.push(`LanguageCode "${input.LanguageCode}" is not a language code`);
  }
  if (input.LanguageOptions !== undefined && !identify && !identifyMany) {
    problems.push('LanguageOptions is only taken with IdentifyLanguage or IdentifyMultipleLanguages');
  }

  const redaction = input.ContentRedaction;
  if (redaction) {
    if (redaction.RedactionType !== 'PII') problems.push('ContentRedaction.RedactionType must be PII');
    if (redaction.RedactionOutput !== 'redacted' && redaction.RedactionOutput !== 'redacted_and_unredacted') {
      problems.push('ContentRedaction.RedactionOutput must be redacted or redacted_and_unredacted');
    }
    if (redaction.PiiEntityTypes !== undefined && redaction.PiiEntityTypes.length === 0) {
      problems.push('ContentRedaction.PiiEntityTypes must not be empty when given');
    }
    if (identify || identifyMany) {
      problems.push('Redaction is not compatible with language identification');
    } else if (!TRANSCRIBE_BATCH_REDACTION_LANGUAGES.includes(input.LanguageCode ?? '')) {
      problems.push(
        `Redaction with batch transcriptions is available with ${TRANSCRIBE_BATCH_REDACTION_LANGUAGES.join(
          ' and ',
        )} only, not ${input.LanguageCode}`,
      );
    }
  }

  const bucket = input.OutputBucketName;
  if (bucket !== undefined && !/^[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9]$/.test(bucket)) {
    problems.push('OutputBucketName is not a bucket name');
  }
  if (input.OutputKey !== undefined) {
    if (bucket === undefined) problems.push('OutputKey needs OutputBucketName');
    if (!/^[a-zA-Z0-9\-_.!*'()/]{1,1024}$/.test(input.OutputKey)) {
      problems.push("OutputKey must be 1-1024 of [a-zA-Z0-9-_.!*'()/]");
    }
  }
  const kms = input.OutputEncryptionKMSKeyId;
  if (kms !== undefined) {
    if (bucket === undefined)
      problems.push('OutputEncryptionKMSKeyId needs an output location (OutputBucketName)');
    if (!KMS_KEY_SHAPES.some((shape) => shape.test(kms))) {
      problems.push('OutputEncryptionKMSKeyId must be a key id, key ARN, alias name or alias ARN');
    }
  }
  if (input.KMSEncryptionContext !== undefined && kms === undefined) {
    problems.push('KMSEncryptionContext needs OutputEncryptionKMSKeyId');
  }
  return problems;
}

export interface TranscribeStandIn {
  /** The underlying client mock (calls made, extra behaviour). */
  mock: AwsClientStub<TranscribeClient>;
  /** Forgets every job and call and installs the strict behaviour again (call in beforeEach). */
  reset(): void;
  /** The StartTranscriptionJob requests received, refused ones included. */
  startRequests(): StartTranscriptionJobCommandInput[];
  /** The job Transcribe holds under that name. */
  job(name: string): TranscriptionJob | undefined;
  /** The next StartTranscriptionJob calls answer these errors (after the request passed validation). */
  refuseNextStart(...errors: Error[]): void;
  /** The next GetTranscriptionJob calls answer these errors (throttling, outages). */
  refuseNextGet(...errors: Error[]): void;
  /** Makes a job exist as if started earlier (for rows a test inserts directly). */
  seedJob(name: string, fields?: Partial<TranscriptionJob>): void;
  /** Finishes a job as Transcribe would: COMPLETED, with its transcript where the request asked for it. */
  complete(name: string, options?: { language?: LanguageCode }): TranscriptionJob;
  fail(name: string, reason: string): TranscriptionJob;
}

/** The transcript file a job writes, as Transcribe reports it (path-style https URL). */
function transcriptUri(input: StartTranscriptionJobCommandInput): string | undefined {
  if (!input.OutputBucketName) return undefined;
  const key = input.OutputKey ?? '';
  const file = !key || key.endsWith('/') ? `${key}${input.TranscriptionJobName}.json` : key;
  return `https://s3.${LOCAL_REGION}.amazonaws.com/${input.OutputBucketName}/${file}`;
}

/** A strict Transcribe for one test file (create it at module level, `reset()` it in beforeEach). */
export function transcribeStandIn(): TranscribeStandIn {
  const mock = mockClient(TranscribeClient);
  const jobs = new Map<string, TranscriptionJob>();
  const requests = new Map<string, StartTranscriptionJobCommandInput>();
  const refusals: Error[] = [];
  const getRefusals: Error[] = [];
  const badRequest = (message: string) =>
    new BadRequestException({ message, $metadata: { httpStatusCode: 400 } });

  const install = () => {
    mock.on(StartTranscriptionJobCommand).callsFake((input: StartTranscriptionJobCommandInput) => {
      const problems = startTranscriptionJobProblems(input);
      if (problems.length > 0) throw badRequest(problems.join('; '));
      const refusal = refusals.shift();
      if (refusal) throw refusal;
      const name = input.TranscriptionJobName as string;
      if (jobs.has(name)) {
        throw new ConflictException({
          message: 'The requested job name already exists. Use a different job name.',
          $metadata: { httpStatusCode: 400 },
        });
      }
      const job: TranscriptionJob = {
        TranscriptionJobName: name,
        TranscriptionJobStatus: 'IN_PROGRESS',
        LanguageCode: input.LanguageCode,
        MediaFormat: input.MediaFormat,
        Media: input.Media,
        ContentRedaction: input.ContentRedaction,
        CreationTime: new Date(),
        StartTime: new Date(),
      };
      jobs.set(name, job);
      requests.set(name, input);
      return { TranscriptionJob: job };
    });
    mock.on(GetTranscriptionJobCommand).callsFake((input: { TranscriptionJobName?: string }) => {
      const refusal = getRefusals.shift();
      if (refusal) throw refusal;
      const job = jobs.get(input.TranscriptionJobName ?? '');
      if (!job) throw badRequest("The requested job couldn't be found. Check the job name and try again.");
      return { TranscriptionJob: { ...job } };
    });
  };

  const finish = (name: string, fields: Partial<TranscriptionJob>): TranscriptionJob => {
    const job = jobs.get(name);
    if (!job) throw new Error(`stand-in: no Transcribe job named ${name}`);
    Object.assign(job, fields, { CompletionTime: new Date() });
    return { ...job };
  };

  return {
    mock,
    reset() {
      mock.reset();
      jobs.clear();
      requests.clear();
      refusals.length = 0;
      getRefusals.length = 0;
      install();
    },
    startRequests: () => mock.commandCalls(StartTranscriptionJobCommand).map((call) => call.args[0].input),
    job: (name) => jobs.get(name),
    refuseNextStart: (...errors) => {
      refusals.push(...errors);
    },
    refuseNextGet: (...errors) => {
      getRefusals.push(...errors);
    },
    seedJob(name, fields = {}) {
      jobs.set(name, {
        TranscriptionJobName: name,
        TranscriptionJobStatus: 'IN_PROGRESS',
        LanguageCode: 'en-US',
        CreationTime: new Date(),
        ...fields,
      });
    },
    complete(name, options = {}) {
      const input = requests.get(name);
      const uri = input ? transcriptUri(input) : undefined;
      const redacted = input?.ContentRedaction !== undefined;
      return finish(name, {
        TranscriptionJobStatus: 'COMPLETED',
        ...(options.language ? { LanguageCode: options.language } : {}),
        Transcript: redacted
          ? {
              RedactedTranscriptFileUri: uri,
              ...(input?.ContentRedaction?.RedactionOutput === 'redacted_and_unredacted'
                ? { TranscriptFileUri: uri?.replace(/\.json$/, '-unredacted.json') }
                : {}),
            }
          : { TranscriptFileUri: uri },
      });
    },
    fail: (name, reason) => finish(name, { TranscriptionJobStatus: 'FAILED', FailureReason: reason }),
  };
}
