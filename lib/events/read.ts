import type { Queryable } from '../db/index.js';
import { type DomainEvent, type EventRow, toDomainEvent } from './types.js';

export interface StoredEvent extends DomainEvent {
  recorded_at: string;
  /** On the bus already (at or before the relay's cursor, and not waiting to be offered again). */
  published: boolean;
}

/** Events recorded after `since` (oldest first), at most `limit`: what `cli events` prints and follows. */
export async function eventsSince(db: Queryable, since: Date, limit = 200): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow & { recorded_at: Date | string; published: boolean }>(
    `SELECT e.id, e.type, e.version, e.time, e.provider, e.practice_number, e.detail, e.recorded_at,
       (e.tx, e.id) <= (c.tx, c.event_id) AND NOT EXISTS (SELECT 1 FROM event_retries r WHERE r.event_id = e.id)
         AS published
     FROM events e, event_cursor c WHERE e.recorded_at > $1 ORDER BY e.recorded_at, e.id LIMIT $2`,
    [since, limit],
  );
  return rows.map(({ published, ...row }) => ({
    ...toDomainEvent(row),
    recorded_at: new Date(row.recorded_at).toISOString(),
    published,
  }));
}

/** The most recent `limit` events, oldest first. */
export async function recentEvents(db: Queryable, limit = 20): Promise<StoredEvent[]> {
  const { rows } = await db.query<{ recorded_at: Date | string }>(
    // Newest by transaction (an index scan backwards), which is the order they were recorded in.
    'SELECT recorded_at FROM events ORDER BY tx DESC, id DESC LIMIT 1 OFFSET $1',
    [Math.max(0, limit - 1)],
  );
  const from = rows[0] ? new Date(new Date(rows[0].recorded_at).getTime() - 1) : new Date(0);
  return eventsSince(db, from, limit);
}
