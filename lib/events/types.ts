/**
 * The domain events (docs/events.md; one JSON Schema per type in schemas/events/). Consumers dedupe on `id`:
 * it is derived from the type and the provider's id of what happened, so a redelivered webhook or a replay
 * gives the same id, and the table holds it once.
 */
export const EVENT_TYPES = [
  'sms.received',
  'sms.auto_replied',
  'patient.emergency',
  'patient.opted_out',
  'patient.opted_in',
  'call.missed',
  'voicemail.received',
  'voicemail.transcribed',
  'message.delivery_failed',
  'recording.archived',
  'alert.acknowledged',
  'alert.escalated',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The `source` of every event on the bus: what a rule on another system matches. */
export const EVENT_SOURCE = 'pedro-webhooks';

/** One event as stored, published (the EventBridge `detail`) and printed by `cli events --json`. */
export interface DomainEvent {
  id: string;
  type: EventType | string;
  version: number;
  /** ISO time it happened. */
  time: string;
  provider: 'twilio' | 'voipms' | string;
  practice_number: string;
  detail: Record<string, unknown>;
}

export interface EventRow {
  id: string;
  type: string;
  version: number;
  time: Date | string;
  provider: string;
  practice_number: string;
  detail: Record<string, unknown> | string;
}

export function toDomainEvent(row: EventRow): DomainEvent {
  return {
    id: row.id,
    type: row.type,
    version: Number(row.version),
    time: new Date(row.time).toISOString(),
    provider: row.provider,
    practice_number: row.practice_number,
    detail: typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail,
  };
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}
