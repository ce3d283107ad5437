import { DatabaseUnavailableError, type Db, getDb } from '../db/index.js';
import { ServiceUnavailableError } from '../http/errors.js';
import { carryingPendingLog, type PendingLog } from '../http/log-row.js';
import { logger } from '../observability.js';
import { QueueUnavailableError, sendMessage } from '../queue/index.js';

/**
 * A database write that must not be lost: run now, or, when Postgres is unreachable, queued on the ingest
 * queue and run later by the ingest worker with the same event. Every action is idempotent.
 */
export interface Action<E, R> {
  readonly name: string;
  /** `context` defaults to a live run (`replay: false`). */
  run(db: Db, event: E, context?: ActionContext): Promise<R>;
}

export interface ActionContext {
  /**
   * True when the ingest worker runs an event deferred by a webhook: the webhook's answer is long gone, so
   * nothing may count on it (a Twilio reply can no longer ride on the TwiML answer).
   */
  replay: boolean;
}

export const defineAction = <E, R>(
  name: string,
  run: (db: Db, event: E, context: ActionContext) => Promise<R>,
): Action<E, R> => ({ name, run: (db, event, context = { replay: false }) => run(db, event, context) });

export interface IngestJob {
  action: string;
  event: unknown;
}

export type Outcome<R> = { stored: true; result: R } | { stored: false };

/**
 * Runs the action against Postgres; if Postgres is down, defers it. Only if both fail: 503, so the provider
 * retries. A webhook hands in its pending log row (RouteContext.pendingLog): it rides on the action's statement.
 */
export async function performOrDefer<E, R>(
  action: Action<E, R>,
  event: E,
  pendingLog?: PendingLog,
): Promise<Outcome<R>> {
  try {
    // The request's webhook_logs row rides on the action's statement: one round trip for both.
    const db = carryingPendingLog(await getDb(), pendingLog);
    return { stored: true, result: await action.run(db, event, { replay: false }) };
  } catch (error) {
    if (!(error instanceof DatabaseUnavailableError)) throw error;
    await defer(action.name, event);
    return { stored: false };
  }
}

export async function defer(action: string, event: unknown): Promise<void> {
  try {
    await sendMessage('ingest', { action, event } satisfies IngestJob);
    logger.warn('database unavailable; event deferred to the ingest queue', { action });
  } catch (error) {
    if (error instanceof QueueUnavailableError) {
      throw new ServiceUnavailableError('storage unavailable, retry later');
    }
    throw error;
  }
}
