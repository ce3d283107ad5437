import { onTestFailed } from 'vitest';
import { localQueues, type QueueName } from '../../../lib/queue/index.js';
import type { Consumer, SqsLikeOptions } from '../../../lib/queue/local.js';

/**
 * Feeds `queue` to `worker` the way SQS and Lambda do: duplicates (also concurrent ones), shuffled order,
 * batches of up to ten, DelaySeconds and partial batch failures. Call in a test (or beforeEach); the seed is
 * printed when the test fails, and QUEUE_SEED=<seed> repeats that run.
 */
export function useSqsLikeQueue(
  queue: QueueName,
  worker: (event: Parameters<Consumer>[0]) => Promise<unknown>,
  options: SqsLikeOptions & { retryDelayMs?: number } = {},
) {
  localQueues.reset();
  const { retryDelayMs = 20, ...sqsLike } = options;
  const seed = sqsLike.seed ?? (process.env.QUEUE_SEED ? Number(process.env.QUEUE_SEED) : undefined);
  localQueues.configure({ sqsLike: { ...sqsLike, seed }, retryDelayMs });
  localQueues.register(queue, worker as Consumer);
  const used = localQueues.seed;
  onTestFailed(() => console.error(`SQS-like queue seed ${used}: repeat with QUEUE_SEED=${used}`));
  return {
    /** Resolves when every message (its retries and duplicates included) has been handled. */
    settled: () => localQueues.idle(),
    /** How many deliveries were extra copies: a test of idempotency means little if this is 0. */
    duplicates: () => localQueues.deliveries.filter((d) => d.queue === queue && d.duplicate).length,
    largestBatch: () =>
      Math.max(0, ...localQueues.deliveries.filter((d) => d.queue === queue).map((d) => d.batchSize)),
    deadLetters: () => localQueues.deadLetters.get(queue) ?? [],
  };
}
