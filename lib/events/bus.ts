import { type DomainEvent, EVENT_SOURCE } from './types.js';

/** Where published events go: EventBridge on AWS, the in-process bus locally. */
export interface EventBus {
  /** Publishes events; returns the ids that were accepted (the rest are published again later). */
  publish(events: readonly DomainEvent[]): Promise<string[]>;
}

export type EventListener = (event: DomainEvent) => Promise<void>;

/**
 * The local run's bus (no AWS): `npm start` publishes to it and the alert subscriber listens in the same
 * process, as the EventBridge rule delivers to the subscriber Lambda on AWS. A listener that throws leaves the
 * event unaccepted, so the relay publishes it again, as EventBridge retries a failed target.
 */
export class LocalEventBus implements EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(events: readonly DomainEvent[]): Promise<string[]> {
    const accepted: string[] = [];
    for (const event of events) {
      try {
        for (const listener of this.listeners) await listener(event);
        accepted.push(event.id);
      } catch {
        // Left unpublished: the next relay pass delivers it again.
      }
    }
    return accepted;
  }
}

export const localEventBus = new LocalEventBus();

type EventBridgeModule = typeof import('@aws-sdk/client-eventbridge');
let eventBridge: Promise<{
  module: EventBridgeModule;
  client: InstanceType<EventBridgeModule['EventBridgeClient']>;
}>;

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX = 10;

/** The EventBridge custom bus `pedro-webhooks-<stage>`; the SDK is loaded only by the functions that publish. */
export class EventBridgeBus implements EventBus {
  constructor(private readonly busName: string) {}

  async publish(events: readonly DomainEvent[]): Promise<string[]> {
    eventBridge ??= import('@aws-sdk/client-eventbridge').then((module) => ({
      module,
      client: new module.EventBridgeClient({
        maxAttempts: 2,
        ...(process.env.EVENTBRIDGE_ENDPOINT ? { endpoint: process.env.EVENTBRIDGE_ENDPOINT } : {}),
      }),
    }));
    const { module, client } = await eventBridge;
    const accepted: string[] = [];
    for (let i = 0; i < events.length; i += PUT_EVENTS_MAX) {
      const batch = events.slice(i, i + PUT_EVENTS_MAX);
      const answer = await client.send(
        new module.PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.type,
            Time: new Date(event.time),
            Detail: JSON.stringify(event),
          })),
        }),
      );
      // Entries answer in order; one with an ErrorCode was not put and is published again next pass.
      (answer.Entries ?? []).forEach((entry, index) => {
        if (!entry.ErrorCode && batch[index]) accepted.push(batch[index].id);
      });
    }
    return accepted;
  }
}

/** The bus for this configuration: EventBridge when a bus name is set, else the in-process bus. */
export function eventBusFor(busName: string | undefined): EventBus {
  return busName ? new EventBridgeBus(busName) : localEventBus;
}
