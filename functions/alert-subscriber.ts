import type { EventBridgeEvent } from 'aws-lambda';
import { alertForEvent } from '../lib/alerts/subscriber.js';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import type { DomainEvent } from '../lib/events/types.js';
import { logger } from '../lib/observability.js';

/**
 * Target of the bus rule for the alertable event types: turns one event into staff alerts (stored texts sent by
 * the outbound worker). A failure throws, so EventBridge retries it and finally puts it on the DLQ; a retry
 * after a partial success stores nothing twice (one alert per event and recipient).
 */
export const handler = async (event: EventBridgeEvent<string, DomainEvent>) => {
  const domainEvent = event.detail;
  if (!domainEvent?.id || !domainEvent.type) {
    logger.error('event without id or type dropped', { id: event.id });
    return { stored: 0 };
  }
  const [db, config] = await Promise.all([getDb(), getConfig()]);
  const result = await alertForEvent(db, domainEvent, {
    escalationSeconds: config.events.alertEscalationSeconds,
  });
  return { stored: result.stored, capped: result.capped };
};
