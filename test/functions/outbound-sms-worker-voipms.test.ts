import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as worker } from '../../functions/outbound-sms-worker.js';
import { handler as inbound } from '../../functions/voipms-sms-incoming.js';
import { relayFollowUps } from '../../lib/followups/index.js';
import { localQueues } from '../../lib/queue/index.js';
import { type FakeVoipms, startFakeVoipms } from '../fakes/voipms-api.js';
import { useSqsLikeQueue } from '../lib/queue/sqs-like.js';
import { DID, PATIENT, PATIENT_E164, voipmsEvent, voipmsSmsParams } from '../lib/voipms/factories.js';
import { useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';

const testDb = useTestDb();
let fake: FakeVoipms;

beforeAll(async () => {
  fake = await startFakeVoipms({ dids: [DID] });
});
afterAll(async () => fake.close());

/** The jobs the inbound route queued, as the SQS event the worker Lambda receives. */
const queuedAsSqsEvent = (): SQSEvent => ({
  Records: localQueues
    .drain('outboundSms')
    .map((job, i) => ({ messageId: `m${i}`, body: JSON.stringify(job) }) as never),
});

describe('outbound SMS worker, VoIP.ms replies', () => {
  beforeEach(() => {
    useConfig({ VOIPMS_API_URL: fake.url, VOIPMS_USERNAME: fake.username, VOIPMS_PASSWORD: fake.password });
    localQueues.drain('outboundSms');
    fake.sent.length = 0;
  });

  it('sends the reply the inbound route stored and queued, once, even when the job is delivered twice', async () => {
    // Prepare: a patient texts the practice's VoIP.ms number
    expect(
      (await invoke(inbound, voipmsEvent(voipmsSmsParams({ message: 'where are you located?' })))).body,
    ).toBe('ok');
    const event = queuedAsSqsEvent();
    expect(event.Records).toHaveLength(1);

    // Act: the worker runs the job, then SQS delivers it again
    const first = await worker({
      Records: [event.Records[0]!, { ...event.Records[0]!, messageId: 'again' }],
    });

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ did: DID, dst: PATIENT });
    expect(fake.sent[0]!.message.length).toBeGreaterThan(10);
    const rows = await testDb.db.query(
      "SELECT status, auto_response_intent, to_number FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(rows.rows).toEqual([
      { status: 'sent', auto_response_intent: 'location', to_number: PATIENT_E164 },
    ]);
  });

  it('retries only on a retryable VoIP.ms answer and records a permanent refusal', async () => {
    await invoke(inbound, voipmsEvent(voipmsSmsParams({ message: 'do you take delta dental?' })));
    const event = queuedAsSqsEvent();
    fake.failWith('sendSMS', 'api_limit_exceeded', 3); // the first try and the client's two own retries
    const limited = await worker(event);
    expect(limited.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }]);

    fake.failWith('sendSMS', 'invalid_dst', 1);
    const refused = await worker(event);
    expect(refused.batchItemFailures).toEqual([]);
    const [row] = (
      await testDb.db.query("SELECT status, error_code FROM sms_messages WHERE direction = 'outbound'")
    ).rows;
    expect(row).toEqual({ status: 'failed', error_code: 'invalid_dst' });
  });
});

describe('a reply whose queueing failed', () => {
  beforeEach(() => {
    useConfig({ VOIPMS_API_URL: fake.url, VOIPMS_USERNAME: fake.username, VOIPMS_PASSWORD: fake.password });
    localQueues.reset();
    fake.sent.length = 0;
  });

  it('is still answered ok, handed on by the follow-up relay, and sent once', async () => {
    // Prepare: the reply row is stored, but the queue refuses the job.
    const params = voipmsSmsParams({ message: 'what time do you open?' });
    const queues = localQueues as unknown as { send: (...args: unknown[]) => void };
    const send = queues.send;
    queues.send = () => {
      throw new Error('queue down');
    };
    try {
      expect((await invoke(inbound, voipmsEvent(params))).body).toBe('ok');
    } finally {
      queues.send = send;
    }
    expect(localQueues.messages('outboundSms')).toEqual([]);

    // Act: the relay runs (twice, as overlapping schedules may), then the worker runs the job twice over.
    await relayFollowUps(testDb.db, { settleMs: 0 });
    await relayFollowUps(testDb.db, { settleMs: 0 });
    const event = queuedAsSqsEvent();
    await worker(event);
    await worker(event);

    // Assess: each run handed it on, the claim sent it once.
    expect(event.Records).toHaveLength(2);
    expect(fake.sent).toHaveLength(1);
    const rows = await testDb.db.query("SELECT status FROM sms_messages WHERE direction = 'outbound'");
    expect(rows.rows).toEqual([{ status: 'sent' }]);
  });
});

describe('VoIP.ms replies through the SQS-like local queue (redelivered, shuffled, batched)', () => {
  beforeEach(() => {
    useConfig({ VOIPMS_API_URL: fake.url, VOIPMS_USERNAME: fake.username, VOIPMS_PASSWORD: fake.password });
    fake.sent.length = 0;
  });
  afterEach(() => localQueues.reset());

  it('sends each stored reply exactly once, a throttled send retried', async () => {
    // Prepare: the worker consumes the queue the inbound route writes to; VoIP.ms throttles one send.
    const queue = useSqsLikeQueue('outboundSms', worker);
    fake.failWith('sendSMS', 'api_limit_exceeded', 3, 2);
    const patients = Array.from({ length: 8 }, (_, i) => `514555${String(2000 + i)}`);

    // Act: eight patients text the practice.
    for (const from of patients) {
      const params = voipmsSmsParams({ from, message: 'where are you located?' });
      expect((await invoke(inbound, voipmsEvent(params))).body).toBe('ok');
    }
    await queue.settled();
    // A failed receipt whose duplicate succeeded is gone from SQS with it: the waiting row is the relay's.
    await relayFollowUps(testDb.db, { settleMs: 0 });
    await queue.settled();

    // Assess
    expect(queue.duplicates()).toBeGreaterThan(0);
    expect(queue.deadLetters()).toEqual([]);
    expect(fake.sent.map((text) => text.dst).sort()).toEqual(patients);
    const rows = await testDb.db.query("SELECT status FROM sms_messages WHERE direction = 'outbound'");
    expect(rows.rows).toEqual(patients.map(() => ({ status: 'sent' })));
  });
});
