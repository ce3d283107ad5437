import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type DomainEvent, type EventBus, publishEvents } from '../../../lib/events/index.js';
import { eventsSince } from '../../../lib/events/read.js';
import { serverUrl, useTestDb } from '../../support/db.js';
import { eventsSettled } from '../../support/publishing.js';

/** Publishing by cursor (lib/events/publish.ts): in order, at least once, never skipping a late commit. */

const testDb = useTestDb();

class RecordingBus implements EventBus {
  readonly seen: string[] = [];
  refuse = new Set<string>();
  async publish(events: readonly DomainEvent[]) {
    this.seen.push(...events.map((event) => event.id));
    return events.filter((event) => !this.refuse.has(event.type)).map((event) => event.id);
  }
}
const INSERT_EVENT = `INSERT INTO events (id, dedupe_key, type, provider, practice_number, detail)
  VALUES (md5($1)::uuid, $1, $2, 'twilio', '+15005550006', '{}') RETURNING id`;

async function record(db: { query: typeof testDb.db.query }, key: string, type = 'call.missed') {
  const { rows } = await db.query<{ id: string }>(INSERT_EVENT, [key, type]);
  return rows[0]!.id;
}

const unpublished = async () =>
  (await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM unpublished_events')).rows[0]!.n;

describe('publishing events by cursor', () => {
  it.skipIf(!serverUrl)(
    'an event whose transaction commits after a later one is published once it commits, never skipped',
    async () => {
      // Prepare: the early transaction records its event first and stays open while a later one commits.
      const early = new pg.Client({ connectionString: testDb.url });
      await early.connect();
      const bus = new RecordingBus();
      try {
        await early.query('BEGIN');
        const first = await record({ query: early.query.bind(early) as never }, 'early');
        const second = await record(testDb.db, 'late');

        // Act
        const whileOpen = await publishEvents(testDb.db, bus);
        await early.query('COMMIT');
        await eventsSettled(testDb.db);
        const afterCommit = await publishEvents(testDb.db, bus);
        const again = await publishEvents(testDb.db, bus);

        // Assess
        expect(whileOpen).toEqual({ published: 0, failed: 0 });
        expect(afterCommit).toEqual({ published: 2, failed: 0 });
        expect(again).toEqual({ published: 0, failed: 0 });
        expect(bus.seen.sort()).toEqual([first, second].sort());
        const ids = (await eventsSince(testDb.db, new Date(0))).map((event) => [event.id, event.published]);
        expect(ids.sort()).toEqual(
          [
            [first, true],
            [second, true],
          ].sort(),
        );
      } finally {
        await early.end();
      }
    },
  );

  it('an event the bus refuses is offered again on each pass without holding back the ones after it', async () => {
    // Prepare
    const bus = new RecordingBus();
    bus.refuse.add('call.missed');
    const refused = await record(testDb.db, 'missed', 'call.missed');
    const taken = await record(testDb.db, 'voicemail', 'voicemail.received');
    await eventsSettled(testDb.db);

    // Act
    const first = await publishEvents(testDb.db, bus);
    const second = await publishEvents(testDb.db, bus);
    const waitingWhileRefused = await unpublished();
    bus.refuse.clear();
    const third = await publishEvents(testDb.db, bus);
    const fourth = await publishEvents(testDb.db, bus);

    // Assess
    expect([first, second, third, fourth]).toEqual([
      { published: 1, failed: 1 },
      { published: 0, failed: 1 },
      { published: 1, failed: 0 },
      { published: 0, failed: 0 },
    ]);
    expect(waitingWhileRefused).toBe(1);
    expect(await unpublished()).toBe(0);
    // The refused event offered on each of the first three passes; the other one once.
    expect(bus.seen.filter((id) => id === refused)).toHaveLength(3);
    expect(bus.seen.filter((id) => id === taken)).toHaveLength(1);
  });

  it('a relay holding the cursor keeps a second one out until its hold lapses', async () => {
    // Prepare
    const bus = new RecordingBus();
    await record(testDb.db, 'held');
    await eventsSettled(testDb.db);
    await testDb.db.query(`UPDATE event_cursor SET claimed_until = now() + interval '30 seconds'`);

    // Act
    const whileHeld = await publishEvents(testDb.db, bus);
    await testDb.db.query(`UPDATE event_cursor SET claimed_until = now() - interval '1 second'`);
    const afterLapse = await publishEvents(testDb.db, bus);

    // Assess
    expect(whileHeld).toEqual({ published: 0, failed: 0 });
    expect(afterLapse).toEqual({ published: 1, failed: 0 });
    const { rows } = await testDb.db.query<{ held: boolean }>(
      'SELECT claimed_until IS NOT NULL AS held FROM event_cursor',
    );
    expect(rows).toEqual([{ held: false }]);
  });
});
