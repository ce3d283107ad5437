import { escalateDueAlerts } from '../alerts/escalate.js';
import { undeliveredAlerts } from '../alerts/metrics.js';
import type { Queryable } from '../db/index.js';
import type { EventBus } from '../events/bus.js';
import { oldestUnpublishedSeconds, publishEvents } from '../events/publish.js';
import { logger } from '../observability.js';
import { type RelayResult, relayFollowUps } from './relay.js';

export interface RelayLoopOptions {
  bus: EventBus;
  /** ALERT_ESCALATION_SECONDS. */
  escalationSeconds: number;
  /** Keep passing until this time (ms since epoch); one pass when it is already past. */
  untilMs: number;
  /** Pause between passes: events are published "within seconds" of the webhook. */
  intervalMs?: number;
}

export interface RelayLoopResult {
  passes: number;
  followUps: RelayResult | null;
  published: number;
  escalated: number;
  oldestUnpublishedSeconds: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One relay invocation: the follow-ups once, then event publishing and alert escalation every couple of
 * seconds until `untilMs` (about 50 s of each one-minute schedule on AWS). Each pass is cheap (partial indexes
 * on what waits), and a failed pass (Postgres or the bus down) is logged and tried again on the next, so the
 * backlog drains within seconds of recovery.
 */
export async function runRelay(db: Queryable, options: RelayLoopOptions): Promise<RelayLoopResult> {
  const interval = options.intervalMs ?? 2000;
  const result: RelayLoopResult = {
    passes: 0,
    followUps: null,
    published: 0,
    escalated: 0,
    oldestUnpublishedSeconds: null,
  };
  try {
    result.followUps = await relayFollowUps(db);
  } catch (error) {
    logger.warn('follow-up pass failed', { error: (error as Error).message });
  }
  for (;;) {
    try {
      result.published += (await publishEvents(db, options.bus)).published;
      result.escalated += (await escalateDueAlerts(db, options.escalationSeconds)).escalated;
    } catch (error) {
      logger.warn('event pass failed; tried again on the next', { error: (error as Error).message });
    }
    result.passes++;
    if (Date.now() + interval >= options.untilMs) break;
    await sleep(interval);
  }
  try {
    result.oldestUnpublishedSeconds = await oldestUnpublishedSeconds(db);
    await undeliveredAlerts(db);
  } catch {
    // The next invocation measures it.
  }
  return result;
}
