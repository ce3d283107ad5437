import type { Queryable } from '../db/index.js';
import { eventsSince, recentEvents, type StoredEvent } from '../events/read.js';

/** One line per event: JSON (`--json`, the event as published) or a short human line. */
export function formatEvent(event: StoredEvent, json: boolean): string {
  if (json) {
    const { recorded_at: _recorded, published: _published, ...asPublished } = event;
    return JSON.stringify(asPublished);
  }
  const detail = Object.entries(event.detail)
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const state = event.published ? '' : ' (unpublished)';
  return `${event.time}  ${event.type.padEnd(23)}  ${event.provider.padEnd(6)}  ${event.practice_number}  ${detail}${state}`;
}

export interface EventsCommandOptions {
  json: boolean;
  follow: boolean;
  limit: number;
  write(line: string): void;
  /** Poll interval while following (ms). */
  intervalMs?: number;
  /** Stops following (tests, Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * `npm run cli -- events`: the latest events from the database, then, with --follow, new ones as they are
 * recorded (polled). Events recorded in the same instant by concurrent statements are never printed twice.
 */
export async function eventsCommand(db: Queryable, options: EventsCommandOptions): Promise<void> {
  const printed = new Set<string>();
  let cursor = new Date(0);
  const show = (events: StoredEvent[]) => {
    for (const event of events) {
      if (printed.has(event.id)) continue;
      printed.add(event.id);
      options.write(formatEvent(event, options.json));
      const at = new Date(event.recorded_at);
      if (at > cursor) cursor = at;
    }
  };
  show(await recentEvents(db, options.limit));
  while (options.follow && !options.signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
    // A statement that commits late may carry an earlier recorded_at: look back a little, skip what was shown.
    show(await eventsSince(db, new Date(cursor.getTime() - 5000), 500));
  }
}
