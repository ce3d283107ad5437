import { beforeEach, describe, expect, it } from 'vitest';
import { eventsCommand } from '../../../lib/cli/events.js';
import { type DomainEvent, type EventBus, publishEvents } from '../../../lib/events/index.js';
import { markArchived } from '../../../lib/recordings/repository.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { eventsSettled } from '../../support/publishing.js';

/** Events recorded by the statements (and triggers) that store the data, published once by the relay. */

const testDb = useTestDb();
beforeEach(() => useConfig());

const PRACTICE = '+15005550006';
const CALLER = '+14155550123';

async function types() {
  const { rows } = await testDb.db.query<{ type: string }>(
    'SELECT type FROM events ORDER BY recorded_at, type',
  );
  return rows.map((row) => row.type);
}

class FlakyBus implements EventBus {
  readonly seen: DomainEvent[] = [];
  refuse = new Set<string>();
  async publish(events: readonly DomainEvent[]) {
    this.seen.push(...events);
    return events.filter((event) => !this.refuse.has(event.type)).map((event) => event.id);
  }
}

describe('events recorded with the data', () => {
  it('a missed call once, whatever the repeats; an answered call never', async () => {
    // Act
    for (let i = 0; i < 2; i++) {
      await testDb.db.query(
        `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
         VALUES ('twilio', 'CA1', 'inbound', $1, $2, 'no-answer')
         ON CONFLICT (provider, provider_call_id) DO UPDATE SET status = EXCLUDED.status`,
        [CALLER, PRACTICE],
      );
    }
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, dial_status)
       VALUES ('twilio', 'CA2', 'inbound', $1, $2, 'completed', 'completed')`,
      [CALLER, PRACTICE],
    );

    // Assess
    const { rows } = await testDb.db.query('SELECT type, practice_number, detail FROM events');
    expect(rows).toEqual([
      {
        type: 'call.missed',
        practice_number: PRACTICE,
        detail: expect.objectContaining({ call_id: 'CA1', from: CALLER, status: 'no-answer' }),
      },
    ]);
  });

  it('a voicemail: received, archived, transcribed (no transcript text unless the practice allows it)', async () => {
    // Prepare
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
       VALUES ('twilio', 'CA9', 'inbound', $1, $2, 'in-progress')`,
      [CALLER, PRACTICE],
    );
    const { rows } = await testDb.db.query<{ id: number }>(
      `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, status)
       VALUES ('twilio', 'RE1', 'CA9', 'completed') RETURNING id`,
    );
    const id = Number(rows[0]!.id);

    // Act
    await markArchived(testDb.db, id, { storageKey: 'k/RE1.wav', sizeBytes: 10, contentType: 'audio/wav' });
    await testDb.db.query(
      `INSERT INTO transcriptions (recording_id, status, text, job_name) VALUES ($1, 'completed', 'call me [PII]', 'j1')`,
      [id],
    );

    // Assess
    expect(await types()).toEqual(
      expect.arrayContaining(['voicemail.received', 'recording.archived', 'voicemail.transcribed']),
    );
    expect(await types()).toHaveLength(3);
    const { rows: transcribed } = await testDb.db.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM events WHERE type = 'voicemail.transcribed'`,
    );
    expect(transcribed[0]?.detail).toMatchObject({ recording_id: id, from: CALLER });
    expect(transcribed[0]?.detail).not.toHaveProperty('transcript');
  });
});

describe('publishing', () => {
  it('marks what the bus took; what it refused is published on a later pass, none twice', async () => {
    // Prepare
    for (const id of ['CA1', 'CA2']) {
      await testDb.db.query(
        `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
         VALUES ('twilio', $1, 'inbound', $2, $3, 'busy')`,
        [id, CALLER, PRACTICE],
      );
    }
    const bus = new FlakyBus();
    bus.refuse.add('call.missed');

    // Act
    await eventsSettled(testDb.db);
    const first = await publishEvents(testDb.db, bus);
    bus.refuse.clear();
    const second = await publishEvents(testDb.db, bus);
    const third = await publishEvents(testDb.db, bus);

    // Assess
    expect([first.published, first.failed, second.published, third.published]).toEqual([0, 2, 2, 0]);
    const { rows } = await testDb.db.query('SELECT count(*)::int AS n FROM unpublished_events');
    expect(rows).toEqual([{ n: 0 }]);
    expect(bus.seen[0]).toMatchObject({
      type: 'call.missed',
      version: 1,
      provider: 'twilio',
      practice_number: PRACTICE,
    });
  });

  it('`cli events --json` prints one JSON object per line, and follows new ones', async () => {
    // Prepare
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
       VALUES ('twilio', 'CA1', 'inbound', $1, $2, 'busy')`,
      [CALLER, PRACTICE],
    );
    const lines: string[] = [];
    const stop = new AbortController();

    // Act
    const following = eventsCommand(testDb.db, {
      json: true,
      follow: true,
      limit: 10,
      intervalMs: 50,
      signal: stop.signal,
      write: (line) => lines.push(line),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
       VALUES ('twilio', 'CA2', 'inbound', $1, $2, 'no-answer')`,
      [CALLER, PRACTICE],
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    await following;

    // Assess
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => e.detail.call_id)).toEqual(['CA1', 'CA2']);
    expect(Object.keys(events[0]).sort()).toEqual(
      ['detail', 'id', 'practice_number', 'provider', 'time', 'type', 'version'].sort(),
    );
  });
});
