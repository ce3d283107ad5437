import type { Queryable } from '../db/index.js';
import { countMetric, gaugeMetric, logger } from '../observability.js';
import type { EventBus } from './bus.js';
import { type EventRow, toDomainEvent } from './types.js';

/** A relay holds the cursor this long per batch; one that dies leaves it to the next pass after that. */
const PUBLISH_LEASE_SECONDS = 30;

/** Takes the cursor (migrations/1732500009703) unless another relay holds it; returns where publishing stands. */
const CLAIM = `UPDATE event_cursor SET claimed_until = now() + make_interval(secs => $1)
  WHERE claimed_until IS NULL OR claimed_until < now()
  RETURNING tx::text AS tx, event_id`;

const COLUMNS = 'e.id, e.type, e.version, e.time, e.provider, e.practice_number, e.detail, e.tx::text AS tx';

/**
 * The next events past the cursor, in order, among those whose transaction is older than every transaction
 * still running: nothing can commit behind them later.
 */
const NEXT = `SELECT ${COLUMNS} FROM events e
  WHERE (e.tx, e.id) > ($1::xid8, $2::uuid) AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.tx, e.id LIMIT $3`;

/** Moves the cursor past a batch and renews the hold; what the bus refused waits in event_retries. */
const ADVANCE = `WITH refused AS (
    INSERT INTO event_retries (event_id) SELECT unnest($4::uuid[]) ON CONFLICT (event_id) DO NOTHING
  )
  UPDATE event_cursor SET tx = $1::xid8, event_id = $2::uuid, advanced_at = now(),
    claimed_until = now() + make_interval(secs => $3)`;

const RETRIES = `SELECT ${COLUMNS} FROM event_retries r JOIN events e ON e.id = r.event_id
  ORDER BY e.tx, e.id LIMIT $1`;

const RETRIED = 'DELETE FROM event_retries WHERE event_id = ANY($1::uuid[])';

const RELEASE = 'UPDATE event_cursor SET claimed_until = NULL';

const OLDEST =
  'SELECT extract(epoch FROM now() - min(recorded_at))::float8 AS seconds FROM unpublished_events';

export interface PublishResult {
  published: number;
  failed: number;
}

/** Puts events on the bus; returns the ids it took (none when it failed as a whole). */
async function put(bus: EventBus, rows: EventRow[]): Promise<Set<string>> {
  try {
    return new Set(await bus.publish(rows.map(toDomainEvent)));
  } catch (error) {
    logger.warn('events not published, left for the next pass', { error: (error as Error).message });
    return new Set();
  }
}

/**
 * Publishes every waiting event at least once: first the events the bus refused before, then the events past
 * the cursor, in order; the cursor moves past each batch, and what the bus refused waits in event_retries for
 * the next pass. A relay that dies between the put and the move publishes a batch again: consumers dedupe on
 * the id. The cursor is held while a relay publishes, so two relays never publish the same events at once.
 */
export async function publishEvents(db: Queryable, bus: EventBus, batch = 100): Promise<PublishResult> {
  const { rows: held } = await db.query<{ tx: string; event_id: string }>(CLAIM, [PUBLISH_LEASE_SECONDS]);
  if (held.length === 0) return { published: 0, failed: 0 };
  let position = held[0]!;
  let published = 0;
  let failed = 0;
  try {
    const { rows: retries } = await db.query<EventRow>(RETRIES, [batch]);
    if (retries.length) {
      const accepted = await put(bus, retries);
      if (accepted.size) await db.query(RETRIED, [[...accepted]]);
      published += accepted.size;
      failed += retries.length - accepted.size;
    }
    // Keeps going while full batches come back, so a backlog after an outage drains in one pass.
    for (let round = 0; round < 20; round++) {
      const { rows } = await db.query<EventRow & { tx: string }>(NEXT, [
        position.tx,
        position.event_id,
        batch,
      ]);
      if (rows.length === 0) break;
      const accepted = await put(bus, rows);
      const refused = rows.filter((row) => !accepted.has(row.id)).map((row) => row.id);
      const last = rows[rows.length - 1]!;
      position = { tx: last.tx, event_id: last.id };
      await db.query(ADVANCE, [position.tx, position.event_id, PUBLISH_LEASE_SECONDS, refused]);
      published += rows.length - refused.length;
      failed += refused.length;
      // The bus is failing: the rest waits for the next pass rather than filling event_retries.
      if (refused.length || rows.length < batch) break;
    }
  } finally {
    await db.query(RELEASE).catch(() => undefined);
  }
  if (published) countMetric('EventsPublished', {}, published);
  if (failed) countMetric('EventsNotPublished', {}, failed);
  return { published, failed };
}

/** Seconds the oldest unpublished event has waited (0 when none): the backlog metric and its alarm. */
export async function oldestUnpublishedSeconds(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seconds: number | null }>(OLDEST);
  const seconds = Math.max(0, Math.round(rows[0]?.seconds ?? 0));
  gaugeMetric('EventsOldestUnpublishedSeconds', seconds);
  return seconds;
}
