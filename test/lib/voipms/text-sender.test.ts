import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sendStoredText } from '../../../lib/messages/send.js';
import { logger } from '../../../lib/observability.js';
import { createVoipmsClient, type VoipmsClient } from '../../../lib/voipms/index.js';
import { voipmsTextSender } from '../../../lib/voipms/text-sender.js';
import { type FakeVoipms, startFakeVoipms } from '../../fakes/voipms-api.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { countedMetrics } from '../../support/metrics.js';
import { DID, DID_E164, PATIENT, PATIENT_E164 } from './factories.js';

const testDb = useTestDb();
let fake: FakeVoipms;
let client: VoipmsClient;

beforeAll(async () => {
  fake = await startFakeVoipms({ dids: [DID] });
});
afterAll(async () => fake.close());

interface PendingReply {
  messageId: number;
  body: string;
}

/** A pending outbound row as the inbound route stores it. */
async function pendingReply(
  overrides: { body?: string; intent?: string; to?: string } = {},
): Promise<PendingReply> {
  const body = overrides.body ?? 'Thanks for texting our office. We will reply soon.';
  const to = overrides.to ?? PATIENT_E164;
  const { rows } = await testDb.db.query<{ id: string }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       auto_response_intent)
     VALUES ('voipms', 'reply:' || gen_random_uuid(), 'outbound', $1, $2, $3, 'pending', $4) RETURNING id`,
    [DID_E164, to, body, overrides.intent ?? 'default'],
  );
  return { messageId: Number(rows[0]!.id), body };
}

const send = (job: PendingReply) => sendStoredText(testDb.db, job.messageId, voipmsTextSender(client));

const row = async (id: number) =>
  (
    await testDb.db.query<{ status: string; error_code: string | null; provider_sent_ids: string[] | null }>(
      'SELECT status, error_code, provider_sent_ids FROM sms_messages WHERE id = $1',
      [id],
    )
  ).rows[0];

describe('sending a stored VoIP.ms text', () => {
  beforeEach(() => {
    useConfig();
    fake.calls.length = 0;
    fake.sent.length = 0;
    client = createVoipmsClient({
      apiUrl: fake.url,
      username: fake.username,
      password: fake.password,
      timeoutMs: 1000,
      maxRetries: 0,
      retryDelayMs: 1,
    });
  });
  afterEach(() => vi.restoreAllMocks());

  it('sends through sendSMS and stores VoIP.ms id, keeping the reply key', async () => {
    // Prepare
    const job = await pendingReply();

    // Act
    const result = await send(job);

    // Assess
    expect(fake.sent).toEqual([
      expect.objectContaining({ kind: 'sms', did: DID, dst: PATIENT, message: job.body }),
    ]);
    expect(result).toBe('sent');
    expect(await row(job.messageId)).toEqual({
      status: 'sent',
      error_code: null,
      provider_sent_ids: [fake.sent[0]!.id],
    });
  });

  it('sends a redelivered job only once', async () => {
    const job = await pendingReply();
    await send(job);
    const again = await send(job);
    expect(again).toBe('skipped');
    expect(fake.sent).toHaveLength(1);
  });

  it('splits a long reply into 160-byte sendSMS parts and stores every id', async () => {
    const job = await pendingReply({ body: 'word '.repeat(60).trim() });
    const result = await send(job);
    expect(fake.sent.length).toBe(2);
    expect((await row(job.messageId))?.provider_sent_ids).toEqual(fake.sent.map((m) => m.id));
    expect(result).toBe('sent');
  });

  it('suppresses a text to an opted-out number', async () => {
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, provider) VALUES ($1, 'voipms')`, [
      PATIENT_E164,
    ]);
    const job = await pendingReply();
    expect(await send(job)).toBe('suppressed');
    expect(fake.sent).toEqual([]);
    expect((await row(job.messageId))?.status).toBe('suppressed');
  });

  it('still sends the opt-out confirmation itself', async () => {
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, provider) VALUES ($1, 'voipms')`, [
      PATIENT_E164,
    ]);
    const job = await pendingReply({ intent: 'opt_out', body: 'You are unsubscribed.' });
    expect(await send(job)).toBe('sent');
    expect(fake.sent).toHaveLength(1);
  });

  it('certainly not sent (api_limit_exceeded): throws, row back to pending, the retry sends it', async () => {
    // Prepare
    const job = await pendingReply();
    fake.limitExceeded('sendSMS', 1);

    // Act
    const failure = await send(job).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'SendFailure', kind: 'retry', code: 'api_limit_exceeded' });
    expect((await row(job.messageId))?.status).toBe('pending');
    expect(await send(job)).toBe('sent');
    expect(fake.sent).toHaveLength(1);
    expect(fake.callsTo('getSMS')).toHaveLength(0);
  });

  it.each([
    ['network_error', (f: FakeVoipms) => f.dropConnection('sendSMS', 1)],
    ['http_error', (f: FakeVoipms) => f.httpError('sendSMS', 503, 1)],
  ])('outcome unknown (%s) and not sent: the retry asks getSMS, then sends once', async (status, arrange) => {
    // Prepare
    const job = await pendingReply();
    arrange(fake);

    // Act
    const failure = await send(job).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'SendFailure', kind: 'unknown', code: status });
    expect((await row(job.messageId))?.status).toBe('unknown');
    expect(await send(job)).toBe('sent');
    expect(fake.callsTo('getSMS')).toHaveLength(1);
    expect(fake.sent).toHaveLength(1);
  });

  it('outcome unknown but sent (the answer was lost): the retry finds it and never sends twice', async () => {
    // Prepare
    const job = await pendingReply();
    fake.loseAnswer('sendSMS', 1);

    // Act
    const failure = await send(job).catch((error: unknown) => error);
    const retry = await send(job);

    // Assess
    expect(failure).toMatchObject({ name: 'SendFailure', kind: 'unknown' });
    expect(retry).toBe('already-sent');
    expect(fake.sent).toHaveLength(1);
    expect(await row(job.messageId)).toMatchObject({ status: 'sent', provider_sent_ids: [fake.sent[0]!.id] });
  });

  it.each([
    'invalid_dst',
    'sms_toolong',
    'invalid_credentials',
    'ip_not_enabled',
    'invalid_did',
    'limit_reached',
  ])('permanent %s: row failed with the status, metric counted, no throw', async (status) => {
    const job = await pendingReply();
    fake.failWith('sendSMS', status, 1);
    const metricNames = countedMetrics();
    const logged = [vi.spyOn(logger, 'error'), vi.spyOn(logger, 'warn'), vi.spyOn(logger, 'info')];

    const result = await send(job);

    expect(result).toBe('failed');
    expect(await row(job.messageId)).toMatchObject({ status: 'failed', error_code: status });
    expect(metricNames()).toEqual(['OutboundSmsFailed']);
    const written = JSON.stringify(logged.flatMap((spy) => spy.mock.calls));
    expect(written).toContain(status);
    expect(written).not.toContain(fake.password);
    expect(written).not.toContain(encodeURIComponent(fake.password));
    expect(written).not.toContain(PATIENT);
  });

  it('keeps a partly sent long text sent (no repeat of delivered parts)', async () => {
    const job = await pendingReply({ body: 'word '.repeat(60).trim() });
    fake.failWith('sendSMS', 'invalid_dst', 1, 1);
    const result = await send(job);
    expect(result).toBe('sent');
    expect(await row(job.messageId)).toMatchObject({
      status: 'sent',
      error_code: 'partial:invalid_dst',
      provider_sent_ids: [fake.sent[0]!.id],
    });
  });
});
