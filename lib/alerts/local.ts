import type { Config } from '../config.js';
import type { Queryable } from '../db/index.js';
import { localEventBus } from '../events/bus.js';
import { alertForEvent } from './subscriber.js';

let unsubscribe: (() => void) | undefined;

/**
 * The local run has no EventBridge: the alert subscriber listens on the in-process bus the relay publishes to,
 * doing the same work as functions/alert-subscriber.ts does on AWS. Subscribed once per process.
 */
export function subscribeAlertsLocally(db: Queryable, config: Config): void {
  unsubscribe ??= localEventBus.subscribe(async (event) => {
    await alertForEvent(db, event, { escalationSeconds: config.events.alertEscalationSeconds });
  });
}

/** Tests that start over. */
export function unsubscribeAlertsLocally(): void {
  unsubscribe?.();
  unsubscribe = undefined;
}
