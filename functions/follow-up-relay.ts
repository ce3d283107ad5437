import type { Context } from 'aws-lambda';
import { subscribeAlertsLocally } from '../lib/alerts/local.js';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { eventBusFor } from '../lib/events/bus.js';
import { runRelay } from '../lib/followups/index.js';

/** The longest an invocation keeps passing, within its one-minute schedule (and its 60 s timeout). */
const LOOP_MS = 50_000;

/**
 * Every minute (EventBridge schedule): hands on every follow-up still waiting in the rows that record it
 * (texts to send, recordings to archive), then for about 50 s publishes waiting events to the bus and
 * escalates unacknowledged emergency alerts every 2 s. Idempotent; overlapping invocations are safe.
 * Locally (no EVENT_BUS_NAME) it publishes to the in-process bus, where the alert subscriber listens.
 */
export const handler = async (_event?: unknown, context?: Context) => {
  const [db, config] = await Promise.all([getDb(), getConfig()]);
  if (!config.events.busName) subscribeAlertsLocally(db, config);
  // On Lambda the time left bounds the loop; `npm start` invokes it every minute with a nominal context.
  const remaining = context?.getRemainingTimeInMillis?.() ?? 0;
  const loopMs = !context
    ? 0
    : config.onLambda
      ? Math.min(LOOP_MS, Math.max(0, remaining - 10_000))
      : LOOP_MS;
  return runRelay(db, {
    bus: eventBusFor(config.events.busName),
    escalationSeconds: config.events.alertEscalationSeconds,
    untilMs: Date.now() + loopMs,
  });
};
