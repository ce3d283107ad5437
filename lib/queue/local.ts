import { randomBytes } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../observability.js';
import type { QueueName } from './index.js';
import { MessageStore, type StoredMessage } from './local-store.js';

export type Consumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

interface LocalMessage extends StoredMessage {
  /** A copy handed out again by the SQS-like mode: its outcome changes nothing. */
  duplicate?: boolean;
  duplicates?: number;
}

/** How failures are retried; the defaults suit tests (fast), `npm start` uses PERSISTENT_RETRIES. */
export interface RetrySettings {
  /** A failed message is dead-lettered only after at least this many receives… */
  maxReceives: number;
  /** …and at least this long after its first receive (SQS: maxReceiveCount × visibility timeout). */
  retryWindowMs: number;
  /** Backoff after the first failure, doubled after each one, capped at maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

/** The local run keeps retrying for 15 minutes, as SQS does with 5 receives × a 180 s visibility timeout. */
export const PERSISTENT_RETRIES: RetrySettings = {
  maxReceives: 5,
  retryWindowMs: 15 * 60_000,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
};

const TEST_RETRIES: RetrySettings = {
  maxReceives: 5,
  retryWindowMs: 0,
  retryDelayMs: 200,
  maxRetryDelayMs: 60_000,
};

/**
 * The test mode that behaves like SQS: at-least-once (a message may come again, even at the same time in
 * another batch), no order, batches of up to `maxBatchSize`, DelaySeconds and partial batch failures honoured.
 * Seeded, so a failing run can be repeated with the seed it logs.
 */
export interface SqsLikeOptions {
  seed?: number;
  /** Chance that a delivered message is delivered once more (default 0.5). */
  duplicateRate?: number;
  maxBatchSize?: number;
  /** Scales every delay (DelaySeconds, backoff): 0.01 turns a second into 10 ms. Default 0.01. */
  timeScale?: number;
  /** At most this many extra copies of one message (default 2), so every run ends. */
  maxDuplicates?: number;
}

export interface Delivery {
  queue: QueueName;
  messageId: string;
  receiveCount: number;
  batchSize: number;
  duplicate: boolean;
  at: number;
}

export interface LocalQueueOptions extends Partial<RetrySettings> {
  /** Keep messages and dead letters in files under this folder (one sub-folder per queue). */
  directory?: string;
  sqsLike?: SqsLikeOptions | boolean;
}

/**
 * Queues for the local run and tests: messages go to a registered consumer (the same worker handler as on
 * Lambda) in batches, failed records are retried with capped exponential backoff, and after enough receives
 * they move to a dead-letter list, as the SQS redrive policy does on AWS. In memory unless given a directory.
 */
export class LocalQueues {
  private readonly consumers = new Map<QueueName, Consumer>();
  /** Messages of queues with no consumer yet (tests read them; the gateway's register() picks them up). */
  private readonly pending = new Map<QueueName, LocalMessage[]>();
  readonly deadLetters = new Map<QueueName, LocalMessage[]>();
  /** Ids of messages sent and not yet handled or buried: what a rescan of the directory must not load twice. */
  private readonly live = new Set<string>();
  private readonly ready = new Map<QueueName, LocalMessage[]>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: (run: boolean) => void }>();
  private inFlight = new Set<Promise<void>>();
  private store: MessageStore | undefined;
  private sqsLike: Required<SqsLikeOptions> | undefined;
  private random: () => number = Math.random;
  /** Every delivery made in the SQS-like mode (tests check that duplicates and batches really happened). */
  readonly deliveries: Delivery[] = [];
  maxReceives = TEST_RETRIES.maxReceives;
  retryWindowMs = TEST_RETRIES.retryWindowMs;
  retryDelayMs = TEST_RETRIES.retryDelayMs;
  maxRetryDelayMs = TEST_RETRIES.maxRetryDelayMs;

  /** Applies retry settings, a directory to persist in (loading what it holds), or the SQS-like mode. */
  configure(options: LocalQueueOptions): void {
    for (const key of ['maxReceives', 'retryWindowMs', 'retryDelayMs', 'maxRetryDelayMs'] as const) {
      const value = options[key];
      if (value !== undefined) {
        if (!(value >= 0)) throw new Error(`local queue ${key} must be a number >= 0, got ${value}`);
        this[key] = value;
      }
    }
    if (options.sqsLike) {
      const given = options.sqsLike === true ? {} : options.sqsLike;
      const seed = given.seed ?? randomBytes(4).readUInt32LE();
      this.sqsLike = {
        seed,
        duplicateRate: given.duplicateRate ?? 0.5,
        maxBatchSize: given.maxBatchSize ?? 10,
        timeScale: given.timeScale ?? 0.01,
        maxDuplicates: given.maxDuplicates ?? 2,
      };
      this.random = seeded(seed);
    }
    if (options.directory !== undefined) {
      this.store = new MessageStore(options.directory);
      this.rescan();
    }
  }

  /** The SQS-like mode's seed, to repeat a failing run with `configure({ sqsLike: { seed } })`. */
  get seed(): number | undefined {
    return this.sqsLike?.seed;
  }

  register(queue: QueueName, consumer: Consumer): void {
    this.consumers.set(queue, consumer);
    const waiting = this.pending.get(queue) ?? [];
    this.pending.delete(queue);
    for (const message of waiting) this.deliver(queue, [message], message.availableAt - Date.now());
  }

  /**
   * Puts a message on a queue. The message is on disk when this returns (with a directory); the promise
   * resolves once it is also fsynced.
   */
  send(queue: QueueName, body: string, delaySeconds: number): Promise<void> | undefined {
    const now = Date.now();
    const message: LocalMessage = {
      id: messageId(now),
      body,
      sentAt: now,
      receiveCount: 0,
      availableAt: now + delaySeconds * 1000,
    };
    const durable = this.store?.add(queue, message);
    this.live.add(message.id);
    this.deliver(queue, [message], this.scaled(delaySeconds * 1000));
    return durable;
  }

  /** Loads messages written to the directory by someone else (a redrive from the CLI) or by an earlier run. */
  rescan(): number {
    if (!this.store) return 0;
    let loaded = 0;
    for (const queue of this.store.queues() as QueueName[]) {
      for (const message of this.store.pending(queue, (id) => this.live.has(id))) {
        this.live.add(message.id);
        loaded += 1;
        this.deliver(queue, [message], message.availableAt - Date.now());
      }
      const known = new Set((this.deadLetters.get(queue) ?? []).map((message) => message.id));
      const dead = this.store.dead(queue, (id) => known.has(id));
      if (dead.length) this.deadLetters.set(queue, [...(this.deadLetters.get(queue) ?? []), ...dead]);
    }
    return loaded;
  }

  /** Messages waiting on a queue with no consumer (tests read them). */
  messages(queue: QueueName): unknown[] {
    return (this.pending.get(queue) ?? []).map((message) => JSON.parse(message.body));
  }

  /** Removes and returns the waiting messages of a queue. */
  drain(queue: QueueName): unknown[] {
    const messages = this.messages(queue);
    for (const message of this.pending.get(queue) ?? []) {
      this.live.delete(message.id);
      this.store?.remove(queue, message.id);
    }
    this.pending.set(queue, []);
    return messages;
  }

  /** Sends a queue's dead letters (or all queues') back for delivery with a fresh receive count. */
  redrive(queue?: QueueName): number {
    let moved = 0;
    for (const name of queue ? [queue] : [...this.deadLetters.keys()]) {
      const dead = this.deadLetters.get(name) ?? [];
      this.deadLetters.delete(name);
      this.store?.redrive(
        name,
        dead.map((message) => message.id),
      );
      for (const message of dead) {
        const revived: LocalMessage = {
          id: message.id,
          body: message.body,
          sentAt: message.sentAt,
          receiveCount: 0,
          availableAt: Date.now(),
        };
        this.live.add(revived.id);
        this.deliver(name, [revived], 0);
        moved += 1;
      }
    }
    return moved;
  }

  /** Resolves when every delivery started so far (and its retries) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Stops waiting retries (their messages stay on disk for the next run) and lets running batches finish:
   * what the gateway does on shutdown, where idle() could wait for 15 minutes of retries.
   */
  async stop(): Promise<void> {
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.resolve(false);
    }
    this.timers.clear();
    await this.idle();
  }

  /** Back to an empty in-memory queue with the test defaults (and no SQS-like mode, no directory). */
  reset(): void {
    for (const entry of this.timers) {
      clearTimeout(entry.timer);
      entry.resolve(false);
    }
    this.timers.clear();
    this.consumers.clear();
    this.pending.clear();
    this.deadLetters.clear();
    this.ready.clear();
    this.live.clear();
    this.deliveries.length = 0;
    this.store = undefined;
    this.sqsLike = undefined;
    this.random = Math.random;
    Object.assign(this, TEST_RETRIES);
  }

  private scaled(ms: number): number {
    return this.sqsLike ? ms * this.sqsLike.timeScale : ms;
  }

  /** Resolves true after `ms`, or false if stop() cancelled the wait. */
  private wait(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve(true);
        }, ms),
        resolve,
      };
      entry.timer.unref();
      this.timers.add(entry);
    });
  }

  private track(run: Promise<void>): void {
    this.inFlight.add(run);
    run.finally(() => this.inFlight.delete(run));
  }

  private deliver(queue: QueueName, messages: LocalMessage[], delayMs: number): void {
    const consumer = this.consumers.get(queue);
    if (!consumer) {
      this.pending.set(queue, [...(this.pending.get(queue) ?? []), ...messages]);
      return;
    }
    this.track(
      (async () => {
        if (!(await this.wait(delayMs))) return;
        if (!this.sqsLike) return this.receive(queue, consumer, messages);
        // SQS-like: join the messages already due, and let a pump hand them out in shuffled batches.
        const ready = this.ready.get(queue) ?? [];
        this.ready.set(queue, [...ready, ...messages]);
        if (ready.length === 0) this.track(this.pump(queue, consumer));
      })(),
    );
  }

  private async pump(queue: QueueName, consumer: Consumer): Promise<void> {
    // A short pause gathers messages sent together into one receive, as a poller would find them.
    await this.wait(1 + Math.floor(this.random() * 3));
    const options = this.sqsLike!;
    const due = shuffle(this.ready.get(queue) ?? [], this.random);
    this.ready.delete(queue);
    for (const message of [...due]) {
      // At-least-once: the same message may also go out at the same moment in another batch.
      if (this.mayDuplicate(message)) due.splice(Math.floor(this.random() * due.length), 0, copy(message));
    }
    const batches: LocalMessage[][] = [];
    while (due.length) {
      const size = 1 + Math.floor(this.random() * options.maxBatchSize);
      const batch: LocalMessage[] = [];
      // One message id appears once per batch, as in a real receive.
      while (due.length && batch.length < size) {
        const next = due.findIndex((message) => !batch.some((taken) => taken.id === message.id));
        if (next < 0) break;
        batch.push(...due.splice(next, 1));
      }
      batches.push(batch);
    }
    await Promise.all(batches.map((batch) => this.receive(queue, consumer, batch)));
  }

  private mayDuplicate(message: LocalMessage): boolean {
    const options = this.sqsLike;
    if (!options || message.duplicate || (message.duplicates ?? 0) >= options.maxDuplicates) return false;
    if (this.random() >= options.duplicateRate) return false;
    message.duplicates = (message.duplicates ?? 0) + 1;
    return true;
  }

  private async receive(queue: QueueName, consumer: Consumer, messages: LocalMessage[]): Promise<void> {
    const now = Date.now();
    for (const message of messages) {
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      if (this.sqsLike)
        this.deliveries.push({
          queue,
          messageId: message.id,
          receiveCount: message.receiveCount,
          batchSize: messages.length,
          duplicate: Boolean(message.duplicate),
          at: now,
        });
    }
    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      const result = await consumer({ Records: messages.map((message) => toRecord(queue, message)) });
      failedIds = new Set(result?.batchItemFailures.map((failure) => failure.itemIdentifier) ?? []);
    } catch (thrown) {
      error = (thrown as Error).message;
      logger.error('local queue consumer failed', { queue, error });
      failedIds = new Set(messages.map((message) => message.id));
    }
    for (const message of messages) {
      if (message.duplicate) continue;
      if (!failedIds.has(message.id)) {
        // SQS-like: even a handled message may be delivered again later.
        if (this.mayDuplicate(message)) this.deliver(queue, [copy(message)], this.random() * 20);
        this.live.delete(message.id);
        this.store?.remove(queue, message.id);
      } else if (this.isDead(message)) {
        const dead = { ...message, deadAt: Date.now(), lastError: error };
        this.deadLetters.set(queue, [...(this.deadLetters.get(queue) ?? []), dead]);
        this.live.delete(message.id);
        logger.error('local queue message dead-lettered', { queue, messageId: message.id });
        await this.store?.bury(queue, dead);
      } else {
        const backoff = Math.min(this.retryDelayMs * 2 ** (message.receiveCount - 1), this.maxRetryDelayMs);
        message.availableAt = Date.now() + backoff;
        message.lastError = error;
        this.store?.update(queue, message);
        this.deliver(queue, [message], this.scaled(backoff));
      }
    }
  }

  private isDead(message: LocalMessage): boolean {
    const age = Date.now() - (message.firstReceivedAt ?? Date.now());
    return message.receiveCount >= this.maxReceives && age >= this.retryWindowMs;
  }
}

let sequence = 0;
/** Sortable and unique across restarts: time, a counter, and a random tail. */
function messageId(now: number): string {
  sequence = (sequence + 1) % 1_679_616;
  return `${now.toString(36).padStart(9, '0')}-${sequence.toString(36).padStart(4, '0')}-${randomBytes(4).toString('hex')}`;
}

function copy(message: LocalMessage): LocalMessage {
  return { ...message, duplicate: true };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** mulberry32: a small seeded generator, so an SQS-like run can be repeated. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

let receipt = 0;
function toRecord(queue: QueueName, message: LocalMessage): SQSRecord {
  return {
    messageId: message.id,
    // A fresh handle per receive, as SQS gives.
    receiptHandle: `${message.id}#${++receipt}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:${queue}`,
    awsRegion: 'local',
  };
}

export const localQueues = new LocalQueues();
