import { beforeEach, describe, expect, it } from 'vitest';
import { handler as ingestWorker } from '../../functions/ingest-worker.js';
import { handler as smsStatus } from '../../functions/twilio-sms-status.js';
import { handler as voipmsIncoming } from '../../functions/voipms-sms-incoming.js';
import { setDb } from '../../lib/db/index.js';
import { localQueues, sendMessage } from '../../lib/queue/index.js';
import { useSqsLikeQueue } from '../lib/queue/sqs-like.js';
import { voipmsEvent, voipmsSmsParams } from '../lib/voipms/factories.js';
import { useConfig } from '../support/config.js';
import { unreachableDb, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import { fakeSid, twilioSmsStatusEvent } from '../support/twilio.js';

const testDb = useTestDb();

/** A database that is down: every statement fails as an unreachable Postgres does. */
const downDb = unreachableDb();

/** Webhooks answered while Postgres was down: the ingest jobs they deferred, as the queue holds them. */
async function deferredDuringOutage(requests: number) {
  localQueues.reset();
  setDb(downDb);
  const sids: string[] = [];
  const smsIds: string[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      const sid = fakeSid('SM');
      sids.push(sid);
      expect((await invoke(smsStatus, twilioSmsStatusEvent({ MessageSid: sid }))).statusCode).toBe(204);
      const params = voipmsSmsParams({ from: `514555${String(1000 + i)}`, message: 'thanks, see you then' });
      smsIds.push(params.id!);
      expect((await invoke(voipmsIncoming, voipmsEvent(params))).body).toBe('ok');
    }
  } finally {
    setDb(testDb.db);
  }
  return { jobs: localQueues.drain('ingest'), sids, smsIds };
}

describe('ingest worker, fed as SQS does (redelivered, shuffled, batched)', () => {
  beforeEach(() => useConfig());

  it('writes every deferred event exactly once, each with its one webhook log row', async () => {
    // Prepare: 8 status callbacks and 8 inbound texts answered during an outage.
    const { jobs, sids, smsIds } = await deferredDuringOutage(8);
    expect(jobs.length).toBeGreaterThanOrEqual(16);
    const queue = useSqsLikeQueue('ingest', ingestWorker);

    // Act
    for (const job of jobs) await sendMessage('ingest', job);
    await queue.settled();

    // Assess
    expect(queue.duplicates()).toBeGreaterThan(0);
    expect(queue.largestBatch()).toBeGreaterThan(1);
    expect(queue.deadLetters()).toEqual([]);
    const stored = await testDb.db.query<{ provider_message_id: string; n: number }>(
      `SELECT provider_message_id, count(*)::int AS n FROM sms_messages
       WHERE direction = 'inbound' OR provider_message_id = ANY($1) GROUP BY provider_message_id`,
      [sids],
    );
    expect(stored.rows.map((row) => row.provider_message_id).sort()).toEqual([...sids, ...smsIds].sort());
    expect(stored.rows.filter((row) => row.n !== 1)).toEqual([]);
    const logs = await testDb.db.query<{ endpoint: string; n: number }>(
      'SELECT endpoint, count(*)::int AS n FROM webhook_logs GROUP BY endpoint ORDER BY endpoint',
    );
    expect(logs.rows).toEqual([
      { endpoint: '/webhooks/twilio/sms/status', n: 8 },
      { endpoint: '/webhooks/voipms/sms/incoming', n: 8 },
    ]);
  });
});
