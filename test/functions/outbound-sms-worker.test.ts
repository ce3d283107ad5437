import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/outbound-sms-worker.js';
import { relayFollowUps } from '../../lib/followups/index.js';
import { localQueues, sendMessage } from '../../lib/queue/index.js';
import { type FakeTwilioApi, startFakeTwilioApi } from '../fakes/twilio-api.js';
import { useSqsLikeQueue } from '../lib/queue/sqs-like.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_BASE_URL, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';

const testDb = useTestDb();
let twilio: FakeTwilioApi;

beforeAll(async () => {
  twilio = await startFakeTwilioApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
});
afterAll(() => twilio.close());

const PATIENT = '+14155550123';
const PRACTICE = '+15005550006';

/** A pending outbound Twilio text, as the statement that decided it stores it; returns its row id. */
async function pendingText(
  overrides: { to?: string; kind?: string; sendAfter?: string } = {},
): Promise<number> {
  const { rows } = await testDb.db.query<{ id: number }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, kind,
       send_after)
     VALUES ('twilio', 'missed-call:CA' || md5(random()::text), 'outbound', $1, $2, $3, 'pending', $4, $5)
     RETURNING id`,
    [
      PRACTICE,
      overrides.to ?? PATIENT,
      'Sorry we missed your call & <hi>',
      overrides.kind ?? 'missed-call',
      overrides.sendAfter ?? null,
    ],
  );
  return Number(rows[0]!.id);
}

const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:outbound-sms',
    awsRegion: 'us-east-1',
  })),
});
const jobFor = (messageId: number) => ({ provider: 'twilio', messageId });
const row = async (id: number) =>
  (
    await testDb.db.query<{ provider_message_id: string; status: string; error_code: string | null }>(
      'SELECT provider_message_id, status, error_code FROM sms_messages WHERE id = $1',
      [id],
    )
  ).rows[0];

describe('outbound SMS worker (Twilio Messages API)', () => {
  beforeEach(() => {
    useConfig({ TWILIO_API_BASE_URL: twilio.url });
    twilio.reset();
  });

  it('sends a stored text with Basic auth and a status callback; the row takes the returned sid', async () => {
    // Prepare
    const id = await pendingText();

    // Act
    const result = await handler(sqsEvent(jobFor(id)));

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(twilio.messages).toHaveLength(1);
    const [request] = twilio.requests;
    expect(request!.authorization).toBe(
      `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(Object.fromEntries(request!.params)).toEqual({
      To: PATIENT,
      From: PRACTICE,
      Body: 'Sorry we missed your call & <hi>',
      StatusCallback: `${TEST_BASE_URL}/webhooks/twilio/sms/status`,
    });
    expect(await row(id)).toEqual({
      provider_message_id: twilio.messages[0]!.sid,
      status: 'sent',
      error_code: null,
    });
  });

  it('sends once when SQS delivers the job twice, in one batch or two', async () => {
    const id = await pendingText();
    await handler(sqsEvent(jobFor(id), jobFor(id)));
    await handler(sqsEvent(jobFor(id)));
    expect(twilio.messages).toHaveLength(1);
  });

  it('21610 (recipient opted out) records the opt-out, suppresses the row and is not retried', async () => {
    const id = await pendingText();
    twilio.script({ kind: 'status', status: 400, body: { code: 21610, message: 'unsubscribed recipient' } });
    const result = await handler(sqsEvent(jobFor(id)));
    expect(result.batchItemFailures).toEqual([]);
    expect((await testDb.db.query('SELECT phone_number FROM opt_outs')).rows).toEqual([
      { phone_number: PATIENT },
    ]);
    expect((await row(id))?.status).toBe('suppressed');
  });

  it('429 (certainly not sent) fails only that record, back to pending, and the retry sends it', async () => {
    // Prepare: two texts in one batch (processed concurrently); Twilio refuses whichever comes first with 429
    const ids = [await pendingText({ to: '+14155550111' }), await pendingText({ to: '+14155550122' })];
    twilio.script({ kind: 'status', status: 429, body: { code: 20429 } });

    // Act
    const result = await handler(sqsEvent(jobFor(ids[0]!), jobFor(ids[1]!)));

    // Assess: one failure reported, that row waits as pending, the other is sent
    expect(result.batchItemFailures).toHaveLength(1);
    const failed = ids[Number(result.batchItemFailures[0]!.itemIdentifier.replace('m-', ''))]!;
    expect((await row(failed))?.status).toBe('pending');
    expect((await row(ids.find((id) => id !== failed)!))?.status).toBe('sent');
    expect((await handler(sqsEvent(jobFor(failed)))).batchItemFailures).toEqual([]);
    expect(twilio.messages.map((m) => m.to).sort()).toEqual(['+14155550111', '+14155550122']);
  });

  it('5xx (may have been sent) leaves the outcome unknown; the retry asks Twilio first, then sends once', async () => {
    const id = await pendingText();
    twilio.script({ kind: 'status', status: 503, body: { message: 'unavailable' } });
    expect((await handler(sqsEvent(jobFor(id)))).batchItemFailures).toHaveLength(1);
    expect((await row(id))?.status).toBe('unknown');

    await handler(sqsEvent(jobFor(id)));

    expect(twilio.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'POST']);
    expect(twilio.messages).toHaveLength(1);
    expect((await row(id))?.status).toBe('sent');
  });

  it('a send made but whose answer was lost is found on the retry and never sent twice', async () => {
    const id = await pendingText();
    twilio.script({ kind: 'lose' });
    expect((await handler(sqsEvent(jobFor(id)))).batchItemFailures).toHaveLength(1);

    await handler(sqsEvent(jobFor(id)));
    await handler(sqsEvent(jobFor(id)));

    expect(twilio.messages).toHaveLength(1);
    expect(await row(id)).toMatchObject({ provider_message_id: twilio.messages[0]!.sid, status: 'sent' });
  });

  it('a permanent refusal (400 other than 21610) marks the row failed, not retried', async () => {
    const id = await pendingText({ to: '+1415' });
    const result = await handler(sqsEvent(jobFor(id)));
    expect(result.batchItemFailures).toEqual([]);
    expect(await row(id)).toMatchObject({ status: 'failed', error_code: '21211' });
  });

  it('suppresses a text to a recipient who opted out after it was stored, without calling Twilio', async () => {
    const id = await pendingText();
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ($1, 'STOP')`, [PATIENT]);
    const result = await handler(sqsEvent(jobFor(id)));
    expect(result.batchItemFailures).toEqual([]);
    expect(twilio.requests).toEqual([]);
    expect((await row(id))?.status).toBe('suppressed');
  });

  it('leaves a text whose time has not come (a missed-call text waiting for the dial result)', async () => {
    const id = await pendingText({ sendAfter: new Date(Date.now() + 60_000).toISOString() });
    await handler(sqsEvent(jobFor(id)));
    expect(twilio.requests).toEqual([]);
    expect((await row(id))?.status).toBe('pending');
  });

  it('cancels a missed-call text whose call turned out answered', async () => {
    const id = await pendingText();
    const sid = (await row(id))!.provider_message_id.replace('missed-call:', '');
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, status, dial_status)
       VALUES ('twilio', $1, 'inbound', 'completed', 'completed')`,
      [sid],
    );
    await handler(sqsEvent(jobFor(id)));
    expect(twilio.requests).toEqual([]);
    expect((await row(id))?.status).toBe('canceled');
  });

  it('drops malformed jobs without retrying them', async () => {
    const result = await handler(
      sqsEvent('not json', { provider: 'fax', messageId: 1 }, { provider: 'twilio' }),
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(twilio.requests).toEqual([]);
  });
});

describe('outbound SMS worker fed by the SQS-like local queue (redelivered, shuffled, batched)', () => {
  beforeEach(() => {
    useConfig({ TWILIO_API_BASE_URL: twilio.url });
    twilio.reset();
  });
  afterEach(() => localQueues.reset());

  const recipients = Array.from({ length: 10 }, (_, i) => `+1415555${String(1000 + i)}`);

  it('sends exactly one text per stored row, however often and in whatever order its job is delivered', async () => {
    // Prepare: ten stored texts; Twilio answers the first send 503 (outcome unknown, checked before a resend)
    const queue = useSqsLikeQueue('outboundSms', handler);
    twilio.script({ kind: 'status', status: 503, body: { message: 'unavailable' } });
    const ids = [];
    for (const to of recipients) ids.push(await pendingText({ to }));

    // Act: the jobs, then the relay (a failed receipt whose duplicate succeeded is deleted by SQS with it: the
    // row, still 'unknown', is what the relay hands on)
    for (const messageId of ids) await sendMessage('outboundSms', { provider: 'twilio', messageId });
    await queue.settled();
    await relayFollowUps(testDb.db, { settleMs: 0 });
    await queue.settled();

    // Assess
    expect(queue.duplicates()).toBeGreaterThan(0);
    expect(queue.deadLetters()).toEqual([]);
    expect(twilio.messages.map((message) => message.to).sort()).toEqual(recipients);
    const rows = await testDb.db.query<{ status: string }>(
      "SELECT status FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(rows.rows.map((row) => row.status)).toEqual(Array(10).fill('sent'));
  });
});
