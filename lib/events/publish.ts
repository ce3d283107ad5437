import type { Queryable } from '../db/index.js';
import { countMetric, gaugeMetric, logger } from '../observability.js';
import type { EventBus } from './bus.js';
import { type EventRow, toDomainEvent } from './types.js';

/** A relay holds the events it publishes this long; one that dies leaves them to the next pass. */
const PUBLISH_LEASE_SECONDS = 30;

/**
 * Claims unpublished events, oldest first (skipping those another relay holds): a partial index keeps this
 * cheap whatever the history, so the relay can run it every couple of seconds.
 */
const CLAIM = `
  WITH due AS (
    SELECT id FROM events
    WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
    ORDER BY recorded_at LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE events e SET claimed_until = now() + make_interval(secs => $2)
  FROM due WHERE e.id = due.id
  RETURNING e.id, e.type, e.version, e.time, e.provider, e.practice_number, e.detail, e.recorded_at`;

const MARK = `UPDATE events SET published_at = now(), claimed_until = NULL
  WHERE id = ANY($1::uuid[]) AND published_at IS NULL`;

const RELEASE = `UPDATE events SET claimed_until = NULL WHERE id = ANY($1::uuid[]) AND published_at IS NULL`;

const OLDEST = `SELECT extract(epoch FROM now() - min(recorded_at))::float8 AS seconds
  FROM events WHERE published_at IS NULL`;

export interface PublishResult {
  published: number;
  failed: number;
}

/**
 * Publishes every waiting event at least once: claimed, put on the bus, then marked published. A crash
 * between the put and the mark publishes it again later (consumers dedupe on the id); an event the bus
 * refused stays unpublished and is tried on the next pass.
 */
export async function publishEvents(db: Queryable, bus: EventBus, batch = 100): Promise<PublishResult> {
  let published = 0;
  let failed = 0;
  // Keeps going while full batches come back, so a backlog after an outage drains in one pass.
  for (let round = 0; round < 20; round++) {
    const { rows } = await db.query<EventRow & { recorded_at: Date }>(CLAIM, [batch, PUBLISH_LEASE_SECONDS]);
    if (rows.length === 0) break;
    rows.sort((a, b) => new Date(a.recorded_at).getTime() - new Date(b.recorded_at).getTime());
    const events = rows.map(toDomainEvent);
    let accepted: string[] = [];
    try {
      accepted = await bus.publish(events);
    } catch (error) {
      logger.warn('events not published, left for the next pass', { error: (error as Error).message });
    }
    if (accepted.length) await db.query(MARK, [accepted]);
    const refused = events.filter((event) => !accepted.includes(event.id)).map((event) => event.id);
    if (refused.length) await db.query(RELEASE, [refused]);
    published += accepted.length;
    failed += refused.length;
    if (refused.length || rows.length < batch) break;
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
