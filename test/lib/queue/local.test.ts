import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalQueues } from '../../../lib/queue/local.js';

/** A worker that records what it received and fails the bodies `failing` says, as batch item failures. */
function recordingWorker(failing: (body: string, receiveCount: number) => boolean = () => false) {
  const received: { body: string; id: string; receiveCount: number; batch: number; batchNo: number }[] = [];
  let batches = 0;
  const consumer = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    const batchNo = ++batches;
    for (const record of event.Records) {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      received.push({
        body: record.body,
        id: record.messageId,
        receiveCount,
        batch: event.Records.length,
        batchNo,
      });
      if (failing(record.body, receiveCount)) failures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures: failures };
  };
  return { received, consumer };
}

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'pw-queue-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const files = (path: string) =>
  existsSync(path) ? readdirSync(path).filter((name) => name.endsWith('.json')) : [];

describe('local queue, in memory (the default for tests)', () => {
  it('writes no file and delivers each message to the registered worker', async () => {
    // Prepare
    const queues = new LocalQueues();
    const worker = recordingWorker();
    queues.register('ingest', worker.consumer);
    // Act
    queues.send('ingest', '"a"', 0);
    queues.send('ingest', '"b"', 0);
    await queues.idle();
    // Assess
    expect(worker.received.map((r) => r.body).sort()).toEqual(['"a"', '"b"']);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('retries a failing message with doubling delays, then dead-letters it after maxReceives', async () => {
    const queues = new LocalQueues();
    queues.configure({ retryDelayMs: 20, maxReceives: 4 });
    const worker = recordingWorker(() => true);
    queues.register('outboundSms', worker.consumer);
    const started = Date.now();
    queues.send('outboundSms', '"x"', 0);
    await queues.idle();
    expect(worker.received.map((r) => r.receiveCount)).toEqual([1, 2, 3, 4]);
    // 20 + 40 + 80 ms of backoff at least
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(queues.deadLetters.get('outboundSms')?.map((m) => m.body)).toEqual(['"x"']);
  });

  it('keeps retrying past maxReceives until the retry window has passed', async () => {
    const queues = new LocalQueues();
    queues.configure({ retryDelayMs: 10, maxRetryDelayMs: 20, maxReceives: 2, retryWindowMs: 250 });
    const worker = recordingWorker(() => true);
    queues.register('ingest', worker.consumer);
    queues.send('ingest', '"y"', 0);
    await queues.idle();
    const dead = queues.deadLetters.get('ingest')!;
    expect(dead).toHaveLength(1);
    expect(dead[0]!.deadAt! - dead[0]!.firstReceivedAt!).toBeGreaterThanOrEqual(250);
    expect(worker.received.length).toBeGreaterThan(2);
  });

  it('caps the backoff', async () => {
    const queues = new LocalQueues();
    // Uncapped, the second and third tries would come 1 s and 2 s later.
    queues.configure({ retryDelayMs: 1_000, maxRetryDelayMs: 30, maxReceives: 3 });
    queues.register('ingest', recordingWorker(() => true).consumer);
    const started = Date.now();
    queues.send('ingest', '"z"', 0);
    await queues.idle();
    expect(queues.deadLetters.get('ingest')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('redrives its dead letters with a fresh receive count', async () => {
    const queues = new LocalQueues();
    queues.configure({ retryDelayMs: 1, maxReceives: 2 });
    let healthy = false;
    const worker = recordingWorker(() => !healthy);
    queues.register('ingest', worker.consumer);
    queues.send('ingest', '"z"', 0);
    await queues.idle();
    expect(queues.deadLetters.get('ingest')).toHaveLength(1);

    healthy = true;
    expect(queues.redrive('ingest')).toBe(1);
    await queues.idle();

    expect(worker.received.map((r) => r.receiveCount)).toEqual([1, 2, 1]);
    expect(queues.deadLetters.get('ingest')).toBeUndefined();
  });
});

describe('local queue with a directory (npm start)', () => {
  it('has the message on disk when send returns, and removes it once handled', async () => {
    const queues = new LocalQueues();
    queues.configure({ directory });
    // No worker yet: the message waits, on disk.
    await queues.send('ingest', JSON.stringify({ action: 'a' }), 0);
    const [file] = files(join(directory, 'ingest'));
    expect(JSON.parse(readFileSync(join(directory, 'ingest', file!), 'utf8'))).toMatchObject({
      body: '{"action":"a"}',
      receiveCount: 0,
    });

    const worker = recordingWorker();
    queues.register('ingest', worker.consumer);
    await queues.idle();

    expect(worker.received.map((r) => r.body)).toEqual(['{"action":"a"}']);
    expect(files(join(directory, 'ingest'))).toEqual([]);
  });

  it('a fresh instance resumes the retries of one that died mid-outage, and loses nothing', async () => {
    // Prepare: the first process accepts 30 messages while the worker fails (the database is down)...
    const first = new LocalQueues();
    first.configure({ directory, retryDelayMs: 10, maxReceives: 1000, retryWindowMs: 60_000 });
    const down = recordingWorker(() => true);
    first.register('ingest', down.consumer);
    for (let i = 0; i < 30; i++) first.send('ingest', JSON.stringify({ n: i }), 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // ...and dies: its timers go, nothing is flushed on the way out.
    await first.stop();
    expect(down.received.length).toBeGreaterThanOrEqual(30);
    // A write cut short by the kill leaves a temporary file, never a half message.
    const half = join(directory, 'ingest', 'ffff-half.json.99999.tmp');
    writeFileSync(half, '{"id":"ffff-ha');
    utimesSync(half, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));

    // Act: a fresh process with the database back.
    const second = new LocalQueues();
    second.configure({ directory, retryDelayMs: 10 });
    const up = recordingWorker();
    second.register('ingest', up.consumer);
    await second.idle();

    // Assess: each of the 30 handled once by the second process, its receive count carried over.
    expect(up.received.map((r) => JSON.parse(r.body).n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(up.received.every((r) => r.receiveCount >= 2)).toBe(true);
    expect(readdirSync(join(directory, 'ingest'))).toEqual([]);
  });

  it('keeps dead letters across a restart and redrives them from a fresh instance', async () => {
    const first = new LocalQueues();
    first.configure({ directory, retryDelayMs: 1, maxReceives: 2 });
    first.register('recordings', recordingWorker(() => true).consumer);
    await first.send('recordings', '"r1"', 0);
    await first.idle();
    expect(files(join(directory, 'recordings', 'dead'))).toHaveLength(1);
    expect(files(join(directory, 'recordings'))).toEqual([]);

    const second = new LocalQueues();
    second.configure({ directory });
    expect(second.deadLetters.get('recordings')?.map((m) => [m.body, m.receiveCount])).toEqual([['"r1"', 2]]);
    const worker = recordingWorker();
    second.register('recordings', worker.consumer);
    second.redrive('recordings');
    await second.idle();

    expect(worker.received.map((r) => [r.body, r.receiveCount])).toEqual([['"r1"', 1]]);
    expect(files(join(directory, 'recordings', 'dead'))).toEqual([]);
  });

  it('honours a delay from before the restart', async () => {
    const first = new LocalQueues();
    first.configure({ directory });
    await first.send('outboundSms', '"later"', 0.3);
    await first.stop();

    const second = new LocalQueues();
    second.configure({ directory });
    const worker = recordingWorker();
    const started = Date.now();
    second.register('outboundSms', worker.consumer);
    await second.idle();
    expect(worker.received).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('local queue, SQS-like test mode', () => {
  it('redelivers, reorders and batches up to ten, repeatably for a seed', async () => {
    const run = async (seed: number) => {
      const queues = new LocalQueues();
      queues.configure({ sqsLike: { seed } });
      const worker = recordingWorker();
      queues.register('ingest', worker.consumer);
      for (let i = 0; i < 40; i++) queues.send('ingest', String(i), 0);
      await queues.idle();
      return { worker, queues };
    };
    const { worker, queues } = await run(7);
    const bodies = worker.received.map((r) => Number(r.body));

    expect(new Set(bodies).size).toBe(40);
    expect(bodies.length).toBeGreaterThan(40); // duplicates
    expect(bodies.slice(0, 40)).not.toEqual(Array.from({ length: 40 }, (_, i) => i)); // order lost
    expect(Math.max(...worker.received.map((r) => r.batch))).toBeGreaterThan(1);
    expect(Math.max(...worker.received.map((r) => r.batch))).toBeLessThanOrEqual(10);
    // No more than maxDuplicates (2) extra copies of any message.
    for (let i = 0; i < 40; i++) expect(bodies.filter((b) => b === i).length).toBeLessThanOrEqual(3);
    expect(queues.deliveries.filter((d) => d.duplicate).length).toBe(bodies.length - 40);
    // One message id at most once per batch, as a real receive.
    for (const batch of groupBy(worker.received, (r) => r.batchNo))
      expect(new Set(batch.map((r) => r.id)).size).toBe(batch.length);

    expect((await run(7)).worker.received.map((r) => r.body).sort()).toEqual(
      worker.received.map((r) => r.body).sort(),
    );
  });

  it('retries only the failed records of a batch, and holds a delayed message back', async () => {
    const queues = new LocalQueues();
    queues.configure({ sqsLike: { seed: 3, duplicateRate: 0, timeScale: 0.1 }, retryDelayMs: 10 });
    const worker = recordingWorker((body, receiveCount) => body === '"flaky"' && receiveCount < 3);
    queues.register('outboundSms', worker.consumer);
    const started = Date.now();
    queues.send('outboundSms', '"delayed"', 2); // 2 s, scaled to 200 ms
    queues.send('outboundSms', '"flaky"', 0);
    queues.send('outboundSms', '"fine"', 0);
    await queues.idle();

    const times = (body: string) => worker.received.filter((r) => r.body === body).map((r) => r.receiveCount);
    expect(times('"fine"')).toEqual([1]);
    expect(times('"flaky"')).toEqual([1, 2, 3]);
    expect(times('"delayed"')).toEqual([1]);
    const delayedId = worker.received.find((r) => r.body === '"delayed"')!.id;
    const delivered = queues.deliveries.find((d) => d.messageId === delayedId)!;
    expect(delivered.at - started).toBeGreaterThanOrEqual(190);
    expect(queues.deadLetters.size).toBe(0);
  });

  it('gives a duplicate the same message id as the original', async () => {
    const queues = new LocalQueues();
    queues.configure({ sqsLike: { seed: 11, duplicateRate: 1, maxDuplicates: 1 } });
    const worker = recordingWorker();
    queues.register('recordings', worker.consumer);
    queues.send('recordings', '"once"', 0);
    await queues.idle();
    expect(worker.received.map((r) => r.body)).toEqual(['"once"', '"once"']);
    expect(new Set(worker.received.map((r) => r.id)).size).toBe(1);
  });
});

function groupBy<T>(items: T[], key: (item: T) => unknown): T[][] {
  const groups = new Map<unknown, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
