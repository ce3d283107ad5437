import type { Queryable } from '../db/index.js';
import { type DomainEvent, type EventRow, toDomainEvent } from './types.js';

export interface StoredEvent extends DomainEvent {
  recorded_at: string;
  published_at: string | null;
}

/** Events recorded after `since` (oldest first), at most `limit`: what `cli events` prints and follows. */
export async function eventsSince(db: Queryable, since: Date, limit = 200): Promise<StoredEvent[]> {
  const { rows } = await db.query<
    EventRow & { recorded_at: Date | string; published_at: Date | string | null }
  >(
    `SELECT id, type, version, time, provider, practice_number, detail, recorded_at, published_at
     FROM events WHERE recorded_at > $1 ORDER BY recorded_at, id LIMIT $2`,
    [since, limit],
  );
  return rows.map((row) => ({
    ...toDomainEvent(row),
    recorded_at: new Date(row.recorded_at).toISOString(),
    published_at: row.published_at ? new Date(row.published_at).toISOString() : null,
  }));
}

/** The most recent `limit` events, oldest first. */
export async function recentEvents(db: Queryable, limit = 20): Promise<StoredEvent[]> {
  const { rows } = await db.query<{ recorded_at: Date | string }>(
    'SELECT recorded_at FROM events ORDER BY recorded_at DESC LIMIT 1 OFFSET $1',
    [Math.max(0, limit - 1)],
  );
  const from = rows[0] ? new Date(new Date(rows[0].recorded_at).getTime() - 1) : new Date(0);
  return eventsSince(db, from, limit);
}
