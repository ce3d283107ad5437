export {
  EventBridgeBus,
  type EventBus,
  type EventListener,
  eventBusFor,
  LocalEventBus,
  localEventBus,
} from './bus.js';
export { oldestUnpublishedSeconds, type PublishResult, publishEvents } from './publish.js';
export { eventsSince, recentEvents, type StoredEvent } from './read.js';
export {
  type DomainEvent,
  EVENT_SOURCE,
  EVENT_TYPES,
  type EventType,
  isEventType,
  toDomainEvent,
} from './types.js';
