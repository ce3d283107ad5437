import type { Queryable } from '../../lib/db/index.js';

/**
 * Waits until no write transaction still running on the server (test files run side by side, each on its own
 * database of the same server) is older than the events recorded so far: the relay publishes an event only then
 * (lib/events/publish.ts), so a test that counts what one pass publishes waits for this first.
 */
export async function eventsSettled(db: Queryable, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())',
    );
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error('events still behind a running transaction');
  }
}
