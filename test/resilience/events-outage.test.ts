import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as ingestWorker } from '../../functions/ingest-worker.js';
import { handler as twilioSmsIncoming } from '../../functions/twilio-sms-incoming.js';
import { createPgDb, type Db, setDb } from '../../lib/db/index.js';
import { migrate } from '../../lib/db/migrate.js';
import type { DomainEvent, EventBus } from '../../lib/events/index.js';
import { runRelay } from '../../lib/followups/index.js';
import { localQueues } from '../../lib/queue/index.js';
import { useConfig } from '../support/config.js';
import { invoke } from '../support/events.js';
import { type PgCluster, pgClusterUnavailable, startPgCluster } from '../support/pg-cluster.js';
import { twilioSmsIncomingEvent, twilioSmsIncomingParams } from '../support/twilio.js';

const unavailable = pgClusterUnavailable();
const title = unavailable
  ? `Events through a Postgres outage (skipped: ${unavailable})`
  : 'Events through a 10 s Postgres outage: every event published after recovery, none twice';

/** A bus that keeps what it is given, as a consumer of the EventBridge bus would see it. */
class RecordingBus implements EventBus {
  readonly seen: DomainEvent[] = [];
  async publish(events: readonly DomainEvent[]) {
    this.seen.push(...events);
    return events.map((event) => event.id);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(unavailable)(title, () => {
  let cluster: PgCluster;
  let admin: Db;
  let webhookDb: Db;

  beforeAll(async () => {
    cluster = await startPgCluster();
    admin = createPgDb({ connectionString: cluster.url, max: 2, timeoutMs: 30_000 });
    await migrate(admin);
    webhookDb = createPgDb({ connectionString: cluster.url, max: 4, timeoutMs: 500 });
    setDb(webhookDb);
    useConfig();
    localQueues.reset();
  }, 120_000);

  afterAll(async () => {
    setDb(undefined);
    await webhookDb?.close();
    await admin?.close();
    await cluster?.destroy();
  });

  it('publishes an event for every text once Postgres is back, and no event twice', async () => {
    // Prepare: a relay passing every 300 ms for the whole stream, as the AWS relay does every 2 s
    const bus = new RecordingBus();
    const relay = runRelay(webhookDb, {
      bus,
      escalationSeconds: 600,
      untilMs: Date.now() + 24_000,
      intervalMs: 300,
    });
    const sent: string[] = [];

    // Act: 30 texts over ~15 s, one of them repeated; Postgres stops at the 8th and starts 10 s later
    for (let index = 0; index < 30; index++) {
      if (index === 8) await cluster.stop();
      if (index === 28) await cluster.start();
      const params = twilioSmsIncomingParams({ Body: `text number ${index}` });
      sent.push(String(params.MessageSid));
      await invoke(twilioSmsIncoming, twilioSmsIncomingEvent(params));
      if (index === 3) await invoke(twilioSmsIncoming, twilioSmsIncomingEvent(params));
      await sleep(index >= 8 && index < 28 ? 500 : 100);
    }
    // The deferred texts are written by the ingest worker once Postgres is back (twice: a redelivery)
    const jobs = localQueues.drain('ingest');
    const asSqs = { Records: jobs.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) })) };
    await ingestWorker(asSqs as unknown as SQSEvent);
    await ingestWorker(asSqs as unknown as SQSEvent);
    await relay;
    // Catching up may wait out the hold of an event a pass claimed just as Postgres went away (30 s): the relay
    // catches up within a minute of any failure, so pass until nothing waits, for at most a minute.
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(1000)) {
      await runRelay(webhookDb, { bus, escalationSeconds: 600, untilMs: 0 });
      const waiting = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM unpublished_events');
      if (waiting.rows[0]!.n === 0) break;
    }

    // Assess
    expect(jobs.length).toBeGreaterThan(0);
    const received = await admin.query<{ message_id: string; n: number; unpublished: number }>(
      `SELECT m.provider_message_id AS message_id, count(e.id)::int AS n,
         count(e.id) FILTER (WHERE e.id IN (SELECT id FROM unpublished_events))::int AS unpublished
       FROM sms_messages m LEFT JOIN events e ON e.type = 'sms.received' AND (e.detail->>'message_id')::bigint = m.id
       WHERE m.direction = 'inbound' GROUP BY 1`,
    );
    expect(received.rows.map((row) => row.message_id).sort()).toEqual([...sent].sort());
    expect(received.rows.every((row) => row.n === 1 && row.unpublished === 0)).toBe(true);
    const stored = await admin.query<{ id: string }>('SELECT id FROM events');
    const published = bus.seen.map((event) => event.id);
    expect(new Set(published).size).toBe(published.length);
    expect([...published].sort()).toEqual(stored.rows.map((row) => row.id).sort());
  }, 180_000);
});
