import { describe, expect, it } from 'vitest';
import { type DomainEvent, type EventBus, publishEvents } from '../../../lib/events/index.js';
import type { RecordingStore } from '../../../lib/recordings/index.js';
import { purgeExpired } from '../../../lib/recordings/purge.js';
import { useTestDb } from '../../support/db.js';
import { eventsSettled } from '../../support/publishing.js';

/** Retention of events (lib/recordings/purge.ts purgeEvents): only published events past the cutoff go. */

const testDb = useTestDb();
const DAY = 86_400_000;
const RETENTION_DAYS = 30;

const store: RecordingStore = {
  kind: 's3',
  bucket: 'pedro-test',
  put: async () => ({ sizeBytes: 0 }),
  getText: async () => '',
  delete: async (keys) => ({ deleted: [...keys], failed: [] }),
};

class RecordingBus implements EventBus {
  readonly seen: string[] = [];
  refuse = new Set<string>();
  async publish(events: readonly DomainEvent[]) {
    this.seen.push(...events.map((event) => event.id));
    return events.filter((event) => !this.refuse.has(event.id)).map((event) => event.id);
  }
}

/** An `sms.received` event carrying the text (as with events_include_text on), recorded `ageDays` ago. */
async function record(key: string, ageDays: number): Promise<string> {
  const { rows } = await testDb.db.query<{ id: string }>(
    `INSERT INTO events (id, dedupe_key, type, provider, practice_number, detail, recorded_at)
     VALUES (md5($1)::uuid, $1, 'sms.received', 'twilio', '+15005550006',
       '{"from": "+14155550123", "text": "my tooth hurts"}', $2)
     RETURNING id`,
    [key, new Date(Date.now() - ageDays * DAY)],
  );
  return rows[0]!.id;
}

async function publish(bus = new RecordingBus()) {
  await eventsSettled(testDb.db);
  return publishEvents(testDb.db, bus);
}

async function remaining(): Promise<string[]> {
  const { rows } = await testDb.db.query<{ id: string }>('SELECT id FROM events ORDER BY id');
  return rows.map((row) => row.id);
}

const purge = () => purgeExpired(testDb.db, store, { retentionDays: RETENTION_DAYS });

describe('retention purge: events', () => {
  it('deletes an old event the relay has published', async () => {
    // Prepare
    await record('old-published', RETENTION_DAYS + 5);
    expect(await publish()).toEqual({ published: 1, failed: 0 });

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(1);
    expect(await remaining()).toEqual([]);
  });

  it('keeps an old event the relay has not published yet (ahead of the cursor), however old', async () => {
    // Prepare: published first, then an older-stamped one recorded after the relay's pass.
    await record('published-first', RETENTION_DAYS + 5);
    await publish();
    const waiting = await record('never-published', RETENTION_DAYS + 400);

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(1);
    expect(await remaining()).toEqual([waiting]);
    const { rows } = await testDb.db.query<{ id: string }>('SELECT id FROM unpublished_events');
    expect(rows).toEqual([{ id: waiting }]);
  });

  it('keeps an old event behind the cursor that waits in event_retries, and its retry row', async () => {
    // Prepare
    const refused = await record('refused', RETENTION_DAYS + 5);
    await record('taken', RETENTION_DAYS + 5);
    const bus = new RecordingBus();
    bus.refuse.add(refused);
    expect(await publish(bus)).toEqual({ published: 1, failed: 1 });

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(1);
    expect(await remaining()).toEqual([refused]);
    const retries = await testDb.db.query('SELECT event_id FROM event_retries');
    expect(retries.rows).toEqual([{ event_id: refused }]);

    // The retry is still offered, and goes on the next purge once the bus takes it.
    bus.refuse.clear();
    expect(await publish(bus)).toEqual({ published: 1, failed: 0 });
    expect((await purge()).events).toBe(1);
    expect(await remaining()).toEqual([]);
  });

  it('keeps a published event recorded within the retention', async () => {
    // Prepare
    const recent = await record('recent', RETENTION_DAYS - 1);
    await publish();

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(0);
    expect(await remaining()).toEqual([recent]);
  });

  it('counts the events it deleted in the purge_log row', async () => {
    // Prepare
    await record('a', RETENTION_DAYS + 1);
    await record('b', RETENTION_DAYS + 2);
    await record('c', 1);
    await publish();

    // Act
    await purge();

    // Assess
    const { rows } = await testDb.db.query('SELECT events FROM purge_log');
    expect(rows).toEqual([{ events: 2 }]);
  });

  it('deletes in bounded batches until none is left', async () => {
    // Prepare: more than one batch (5000), put behind the cursor by moving it past them.
    await testDb.db.query(
      `INSERT INTO events (id, dedupe_key, type, provider, practice_number, recorded_at)
       SELECT md5('bulk:' || i)::uuid, 'bulk:' || i, 'call.missed', 'twilio', '+15005550006', $1
       FROM generate_series(1, 5003) AS i`,
      [new Date(Date.now() - (RETENTION_DAYS + 5) * DAY)],
    );
    await eventsSettled(testDb.db);
    await testDb.db.query(
      `UPDATE event_cursor SET (tx, event_id) =
         (SELECT tx, id FROM events ORDER BY tx DESC, id DESC LIMIT 1)`,
    );

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(5003);
    expect(await remaining()).toEqual([]);
  });

  it('leaves the alerts of a deleted event as they are', async () => {
    // Prepare
    const old = await record('alerted', RETENTION_DAYS + 5);
    await testDb.db.query(
      `INSERT INTO alerts (event_id, event_type, provider, practice_number, recipient_number, position, status)
       VALUES ($1, 'sms.received', 'twilio', '+15005550006', '+14155550999', 1, 'delivered')`,
      [old],
    );
    await publish();

    // Act
    const result = await purge();

    // Assess
    expect(result.events).toBe(1);
    const { rows } = await testDb.db.query('SELECT event_id, status FROM alerts');
    expect(rows).toEqual([{ event_id: old, status: 'delivered' }]);
  });

  it('publishing goes on after the purge deleted the event the cursor points at', async () => {
    // Prepare
    const old = await record('cursor-row', RETENTION_DAYS + 5);
    await publish();
    const cursor = await testDb.db.query<{ event_id: string }>('SELECT event_id FROM event_cursor');
    expect(cursor.rows).toEqual([{ event_id: old }]);
    await purge();
    expect(await remaining()).toEqual([]);

    // Act
    const fresh = await record('after-purge', 0);
    const bus = new RecordingBus();
    const result = await publish(bus);
    const again = await publish(bus);

    // Assess
    expect(result).toEqual({ published: 1, failed: 0 });
    expect(again).toEqual({ published: 0, failed: 0 });
    expect(bus.seen).toEqual([fresh]);
    const waiting = await testDb.db.query('SELECT count(*)::int AS n FROM unpublished_events');
    expect(waiting.rows).toEqual([{ n: 0 }]);
    const moved = await testDb.db.query<{ event_id: string }>('SELECT event_id FROM event_cursor');
    expect(moved.rows).toEqual([{ event_id: fresh }]);
  });
});
