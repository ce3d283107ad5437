import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAwsDeadLetters, redriveAwsDeadLetters } from '../../../lib/cli/dead-letters.js';
import { LocalQueues } from '../../../lib/queue/local.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalSqs,
  receiveAll,
  startLocalSqs,
} from '../../support/aws.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const PHONE = '+14155550123';

function cli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts/cli.ts'), ...args],
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('dead-letters, local (npm start)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pw-dlq-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('lists the persisted dead letters without their bodies, then redrives them to a later start', async () => {
    // Prepare: npm start dead-lettered one ingest job and one text.
    const directory = join(dataDir, 'queues');
    const gateway = new LocalQueues();
    gateway.configure({ directory, retryDelayMs: 1, maxReceives: 2 });
    gateway.register('ingest', async () => {
      throw new Error('database unavailable: connect ECONNREFUSED');
    });
    gateway.register('outboundSms', async (event) => ({
      batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    }));
    await gateway.send('ingest', JSON.stringify({ action: 'voipmsSms', event: { from: PHONE } }), 0);
    await gateway.send(
      'outboundSms',
      JSON.stringify({ provider: 'twilio', kind: 'missed-call', to: PHONE }),
      0,
    );
    await gateway.idle();

    // Act
    const listed = await cli(['dead-letters', 'list'], { DATA_DIR: dataDir });
    const onlyIngest = await cli(['dead-letters', 'redrive', '--queue', 'ingest'], { DATA_DIR: dataDir });

    // Assess
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/outboundSms\s+\S+\s+twilio missed-call\s+2/);
    expect(listed.stdout).toMatch(/ingest\s+\S+\s+voipmsSms\s+2 .*database unavailable/);
    expect(listed.stdout).not.toContain(PHONE);
    expect(onlyIngest.stdout).toContain('ingest: 1 moved back');
    expect(readdirSync(join(directory, 'ingest', 'dead'))).toEqual([]);
    expect(readdirSync(join(directory, 'outboundSms', 'dead'))).toHaveLength(1);

    const restarted = new LocalQueues();
    restarted.configure({ directory });
    const bodies: string[] = [];
    restarted.register('ingest', async (event) => {
      bodies.push(...event.Records.map((r) => r.body));
      return { batchItemFailures: [] };
    });
    await restarted.idle();
    expect(bodies.map((body) => JSON.parse(body).action)).toEqual(['voipmsSms']);
  });

  it('shows bodies only when asked, and refuses an unknown queue', async () => {
    const withBody = await cli(['dead-letters', 'list', '--body'], { DATA_DIR: dataDir });
    const unknown = await cli(['dead-letters', 'list', '--queue', 'fax'], { DATA_DIR: dataDir });
    expect(withBody.stdout).toContain(PHONE);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--queue is one of outboundSms, recordings, ingest');
  });
});

describe('dead-letters on AWS (SQS emulator)', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs();
  });
  afterAll(async () => sqs?.close());

  /** A queue whose one message failed twice (maxReceiveCount 1), so SQS moved it to the DLQ. */
  async function queueWithDeadLetter(name: string, body: string) {
    const queue = await sqs.createQueue(name, {
      visibilityTimeout: 1,
      deadLetter: { name: `${name}-dlq`, maxReceiveCount: 1 },
    });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    for (let receive = 0; receive < 2; receive++) {
      await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 2, VisibilityTimeout: 0 }),
      );
    }
    return queue;
  }

  const waiting = async (url: string) =>
    Number(
      (
        await sqs.client.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
        )
      ).Attributes?.ApproximateNumberOfMessages,
    );
  /** Waits for a move task (asynchronous) to land, then says how many wait on the source and the DLQ. */
  const counts = async (queue: { url: string; dlqUrl?: string }) => {
    for (let attempt = 0; attempt < 40 && (await waiting(queue.url)) === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    return { source: await waiting(queue.url), dlq: await waiting(queue.dlqUrl!) };
  };

  it('peeks at the DLQ from the CLI, leaving the message there', async () => {
    const body = JSON.stringify({ provider: 'voipms', kind: 'auto-reply', to: PHONE });
    const queue = await queueWithDeadLetter('cli-outbound', body);
    const env = {
      OUTBOUND_SMS_QUEUE_URL: queue.url,
      SQS_ENDPOINT: sqs.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    };

    const listed = await cli(['dead-letters', 'list', '--queue', 'outboundSms'], env);
    const again = await listAwsDeadLetters(sqs.client, [{ queue: 'outboundSms', url: queue.url }]);

    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/outboundSms\s+\S+\s+voipms auto-reply/);
    expect(listed.stdout).not.toContain(PHONE);
    expect(again.map((row) => row.job)).toEqual(['voipms auto-reply']);
    expect(await waiting(queue.dlqUrl!)).toBe(1);
  });

  it('redrives with StartMessageMoveTask back to the source queue', async () => {
    const queue = await queueWithDeadLetter('move-ingest', '{"action":"twilioSmsStatus"}');

    const [result] = await redriveAwsDeadLetters(sqs.client, [{ queue: 'ingest', url: queue.url }]);

    expect(result).toMatchObject({ queue: 'ingest', how: 'move-task' });
    expect(result!.taskHandle).toBeTruthy();
    expect(await counts(queue)).toEqual({ source: 1, dlq: 0 });
    expect((await receiveAll(sqs, queue.url)).map((m) => m.body)).toEqual(['{"action":"twilioSmsStatus"}']);
  });

  it('copies back (send, then delete) where move tasks are not offered', async () => {
    const queue = await queueWithDeadLetter('copy-recordings', '{"recordingId":7}');

    const [result] = await redriveAwsDeadLetters(sqs.client, [{ queue: 'recordings', url: queue.url }], {
      useMoveTask: false,
    });

    expect(result).toEqual({ queue: 'recordings', how: 'copied', moved: 1 });
    expect(await counts(queue)).toEqual({ source: 1, dlq: 0 });
    expect((await receiveAll(sqs, queue.url)).map((m) => m.body)).toEqual(['{"recordingId":7}']);
  });
});
