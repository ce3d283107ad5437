import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as ingestWorker } from '../../functions/ingest-worker.js';
import { createPgDb, type Db, setDb } from '../../lib/db/index.js';
import { migrate } from '../../lib/db/migrate.js';
import type { WebhookResponse } from '../../lib/http/index.js';
import { ingestActions } from '../../lib/ingest/registry.js';
import { localQueues } from '../../lib/queue/index.js';
import { useConfig } from '../support/config.js';
import { truncateData } from '../support/db.js';
import { invoke } from '../support/events.js';
import { type PgCluster, pgClusterUnavailable, startPgCluster } from '../support/pg-cluster.js';
import { existingRoutes } from './routes.js';

const unavailable = pgClusterUnavailable();
const title = unavailable
  ? `Postgres outage mid-stream (skipped: ${unavailable})`
  : 'Postgres outage mid-stream: webhooks answer, events wait on the ingest queue, nothing lost';

/**
 * The ingest worker fed as SQS would: batches of ten, and records it reports as failed delivered again, up to
 * five receives (the redrive policy). Returns the jobs that would end in the dead-letter queue.
 */
async function runIngestWorker(jobs: unknown[]): Promise<unknown[]> {
  let pending = jobs.map((job, index) => ({ id: `m-${index}`, job, receives: 0 }));
  const dead: unknown[] = [];
  while (pending.length > 0) {
    const failed: typeof pending = [];
    for (let start = 0; start < pending.length; start += 10) {
      const batch = pending.slice(start, start + 10);
      for (const item of batch) item.receives += 1;
      const event = {
        Records: batch.map((item) => ({
          messageId: item.id,
          receiptHandle: item.id,
          body: JSON.stringify(item.job),
          attributes: { ApproximateReceiveCount: String(item.receives) },
          messageAttributes: {},
          eventSource: 'aws:sqs',
        })),
      } as unknown as SQSEvent;
      const result = await ingestWorker(event);
      const ids = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      failed.push(...batch.filter((item) => ids.has(item.id)));
    }
    dead.push(...failed.filter((item) => item.receives >= 5).map((item) => item.job));
    pending = failed.filter((item) => item.receives < 5);
  }
  return dead;
}

describe.skipIf(unavailable)(title, () => {
  let cluster: PgCluster;
  /** Migrations and assertions, with patient timeouts; the handlers get a short-timeout pool. */
  let admin: Db;
  let webhookDb: Db;
  let routes: Awaited<ReturnType<typeof existingRoutes>>;
  let allRoutes: Awaited<ReturnType<typeof existingRoutes>>;

  beforeAll(async () => {
    cluster = await startPgCluster();
    admin = createPgDb({ connectionString: cluster.url, max: 2, timeoutMs: 30_000 });
    await migrate(admin);
    webhookDb = createPgDb({ connectionString: cluster.url, max: 4, timeoutMs: 500 });
    setDb(webhookDb);
    allRoutes = await existingRoutes();
    routes = allRoutes.filter((route) =>
      ['twilio/sms/status', 'twilio/sms/incoming', 'voipms/sms/incoming'].includes(route.name),
    );
  }, 120_000);

  afterAll(async () => {
    setDb(undefined);
    await webhookDb?.close();
    await admin?.close();
    await cluster?.destroy();
  });

  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    await truncateData(admin);
  });

  it('answers every request while Postgres is stopped, then stores every event exactly once', async () => {
    // Prepare: a stream alternating the routes; the database goes away after the first third.
    const stream = Array.from({ length: 24 }, (_, index) => {
      const route = routes[index % routes.length]!;
      return { route, params: route.params() };
    });
    const answers: WebhookResponse[] = [];

    // Act
    for (const [index, { route, params }] of stream.entries()) {
      if (index === 8) await cluster.stop();
      if (index === 16) await cluster.start();
      answers.push(await invoke(route.handler, route.event(params)));
    }
    const jobs = localQueues.drain('ingest');
    const deadLetters = await runIngestWorker(jobs);

    // Assess: every answer is what the provider expects, outage or not.
    for (const [index, { route }] of stream.entries()) {
      const answer = answers[index]!;
      expect(answer.statusCode, `${route.name} request ${index}`).toBe(route.ok[0]);
      if (route.name === 'twilio/sms/incoming') expect(answer.body).toMatch(/<Response>|<Response\/>/);
      if (route.name === 'voipms/sms/incoming') expect(answer.body).toBe('ok');
    }
    // The outage third went to the ingest queue (event + webhook log each), and the worker took all of it.
    expect(jobs.length).toBeGreaterThanOrEqual(16);
    expect(deadLetters).toEqual([]);
    expect(localQueues.deadLetters.size).toBe(0);

    const stored = await admin.query<{ provider_message_id: string; n: number }>(
      `SELECT provider_message_id, count(*)::int AS n FROM sms_messages
       WHERE provider_message_id NOT LIKE 'reply:%' GROUP BY provider_message_id`,
    );
    const expected = stream.map(({ params }) => String(params.MessageSid ?? params.id)).sort();
    expect(stored.rows.map((row) => row.provider_message_id).sort()).toEqual(expected);
    expect(stored.rows.every((row) => row.n === 1)).toBe(true);
    const replies = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sms_messages WHERE provider_message_id LIKE 'reply:%'
       GROUP BY provider_message_id HAVING count(*) > 1`,
    );
    expect(replies.rows).toEqual([]);
    const logs = await admin.query<{ endpoint: string; n: number }>(
      'SELECT endpoint, count(*)::int AS n FROM webhook_logs GROUP BY endpoint ORDER BY endpoint',
    );
    const perEndpoint = new Map<string, number>();
    for (const { route } of stream) perEndpoint.set(route.path, (perEndpoint.get(route.path) ?? 0) + 1);
    expect(Object.fromEntries(logs.rows.map((row) => [row.endpoint, row.n]))).toEqual(
      Object.fromEntries(perEndpoint),
    );
  }, 120_000);

  it('knows every action any webhook defers, so no deferred event dead-letters as unknown', async () => {
    // Prepare
    await cluster.stop();

    // Act: one valid request to every route that exists, with the database down.
    const answers = [];
    try {
      for (const route of allRoutes) answers.push(await invoke(route.handler, route.event(route.params())));
    } finally {
      await cluster.start();
    }

    // Assess
    expect(answers.filter((answer) => answer.statusCode >= 500)).toEqual([]);
    const deferred = new Set(localQueues.drain('ingest').map((job) => (job as { action: string }).action));
    const unknown = [...deferred].filter((action) => !ingestActions.has(action));
    expect(unknown, 'deferred by a webhook but missing from lib/ingest/registry.ts').toEqual([]);
  }, 60_000);

  it('writes a redelivered ingest event once: the actions are idempotent', async () => {
    // Prepare: one outage event of each route on the queue.
    await cluster.stop();
    for (const route of routes) await invoke(route.handler, route.event(route.params()));
    await cluster.start();
    const events = localQueues
      .drain('ingest')
      .filter((job) => (job as { action: string }).action !== 'webhook_logs.insert');

    // Act: SQS delivers at least once; here every event arrives three times.
    const deadLetters = await runIngestWorker([...events, ...events, ...events]);

    // Assess
    expect(deadLetters).toEqual([]);
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM sms_messages WHERE provider_message_id NOT LIKE 'reply:%'`,
    );
    expect(rows[0]!.n).toBe(routes.length);
  }, 60_000);

  it('answers 503 when the ingest queue is unreachable too, so the provider retries', async () => {
    // Prepare: Postgres down and the ingest queue pointed at a closed port.
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SQS_ENDPOINT: 'http://127.0.0.1:9',
    });
    useConfig({ INGEST_QUEUE_URL: 'http://127.0.0.1:9/000000000000/ingest' });
    await cluster.stop();
    try {
      // Act
      const answers = [];
      for (const route of routes) answers.push(await invoke(route.handler, route.event(route.params())));

      // Assess
      expect(answers.map((answer) => answer.statusCode)).toEqual(routes.map(() => 503));
    } finally {
      await cluster.start();
      process.env = saved;
    }
  }, 60_000);
});
