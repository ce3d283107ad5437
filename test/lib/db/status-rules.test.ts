import { describe, expect, it } from 'vitest';
import { recordMessageStatus } from '../../../lib/messages/status.js';
import { upsertVoipmsCalls } from '../../../lib/voipms/calls.js';
import type { NormalizedCall } from '../../../lib/voipms/cdr.js';
import { useTestDb } from '../../support/db.js';

// The rules a status callback must keep, written out here rather than read from the product's own lists:
// a status only moves forward, and among the outcomes the first one to arrive stays.
const testDb = useTestDb();

const PATIENT = '+14155550123';
const PRACTICE = '+15085550100';
let counter = 0;
const nextSid = () => `SM${String(++counter).padStart(32, '0')}`;

const receipt = (sid: string, status: string, errorCode?: string) =>
  recordMessageStatus.run(testDb.db, {
    provider: 'twilio',
    providerMessageId: sid,
    status,
    ...(errorCode ? { errorCode } : {}),
    fromNumber: PRACTICE,
    toNumber: PATIENT,
  });

const messageRow = async (sid: string) =>
  (
    await testDb.db.query<{ status: string; error_code: string | null }>(
      'SELECT status, error_code FROM sms_messages WHERE provider_message_id = $1',
      [sid],
    )
  ).rows[0];

describe('message status: forward only, the first outcome wins', () => {
  it.each([
    // An outcome is final: a later outcome, whichever, changes nothing.
    ['delivered', 'undelivered', 'delivered'],
    ['undelivered', 'delivered', 'undelivered'],
    ['failed', 'delivered', 'failed'],
    ['delivered', 'failed', 'delivered'],
    ['canceled', 'delivered', 'canceled'],
    ['delivered', 'canceled', 'delivered'],
    ['suppressed', 'delivered', 'suppressed'],
    ['undelivered', 'failed', 'undelivered'],
    // Before an outcome, each step moves it on; a late earlier step is ignored.
    ['pending', 'accepted', 'accepted'],
    ['accepted', 'queued', 'queued'],
    ['scheduled', 'queued', 'queued'],
    ['queued', 'accepted', 'queued'],
    ['queued', 'sending', 'sending'],
    ['sending', 'sent', 'sent'],
    ['sent', 'sending', 'sent'],
    ['sent', 'queued', 'sent'],
    ['sent', 'delivered', 'delivered'],
    ['sent', 'undelivered', 'undelivered'],
    ['received', 'sent', 'received'],
    ['delivered', 'sent', 'delivered'],
    ['failed', 'queued', 'failed'],
    // `read` may still follow `delivered`, never the other way round.
    ['delivered', 'read', 'read'],
    ['read', 'delivered', 'read'],
    // (An unknown status never reaches the table: the status CHECK refuses it, see test/lib/cli/report.test.ts.)
  ])('%s then %s ends %s', async (first, later, expected) => {
    // Prepare
    const sid = nextSid();
    await receipt(sid, first);

    // Act
    await receipt(sid, later);

    // Assess
    expect((await messageRow(sid))?.status).toBe(expected);
  });

  it('keeps the error code of the first outcome; a step forward brings its own code, or keeps the earlier one', async () => {
    // Prepare
    const undelivered = nextSid();
    const delivered = nextSid();
    const failed = nextSid();
    await receipt(undelivered, 'undelivered', '30003');
    await receipt(delivered, 'sent', '30001');
    await receipt(failed, 'sent', '30001');

    // Act
    await receipt(undelivered, 'failed', '30005');
    await receipt(delivered, 'delivered');
    await receipt(failed, 'failed', '30008');

    // Assess
    expect(await messageRow(undelivered)).toEqual({ status: 'undelivered', error_code: '30003' });
    expect(await messageRow(delivered)).toEqual({ status: 'delivered', error_code: '30001' });
    expect(await messageRow(failed)).toEqual({ status: 'failed', error_code: '30008' });
  });

  it('records an opt-out for error 21610 only, keyed by the recipient', async () => {
    // Act
    await receipt(nextSid(), 'undelivered', '21610');
    await receipt(nextSid(), 'undelivered', '30003');
    await recordMessageStatus.run(testDb.db, {
      provider: 'twilio',
      providerMessageId: nextSid(),
      status: 'failed',
      errorCode: '30007',
      fromNumber: PRACTICE,
      toNumber: '+14155550999',
    });

    // Assess
    const { rows } = await testDb.db.query('SELECT phone_number, keyword, provider FROM opt_outs');
    expect(rows).toEqual([{ phone_number: PATIENT, keyword: 'error 21610', provider: 'twilio' }]);
  });
});

describe('status ranks in the database', () => {
  const rankOf = async (fn: string, statuses: string[]) =>
    (
      await testDb.db.query<{ status: string; rank: number }>(
        `SELECT s AS status, ${fn}(s) AS rank FROM unnest($1::text[]) AS s`,
        [statuses],
      )
    ).rows.map((row) => row.rank);

  // Each inner list is one step of the lifecycle: statuses of one step rank the same, a later step higher.
  const assertSteps = async (fn: string, steps: string[][]) => {
    const ranks = await Promise.all(steps.map((step) => rankOf(fn, step)));
    for (const [i, step] of ranks.entries()) {
      expect(new Set(step).size, `${steps[i]!.join(', ')} share a rank`).toBe(1);
      if (i > 0)
        expect(step[0]!, `${steps[i]![0]} after ${steps[i - 1]![0]}`).toBeGreaterThan(ranks[i - 1]![0]!);
    }
  };

  it('message_status_rank orders the lifecycle, all outcomes equal, read last, unknown first', async () => {
    await assertSteps('message_status_rank', [
      ['pending', 'mystery'],
      ['accepted', 'scheduled'],
      ['queued'],
      ['sending', 'receiving'],
      ['sent'],
      ['received'],
      ['delivered', 'undelivered', 'failed', 'canceled', 'suppressed'],
      ['read'],
    ]);
  });

  it('call_status_rank orders the lifecycle, all outcomes equal, unknown first', async () => {
    await assertSteps('call_status_rank', [
      ['queued', 'mystery'],
      ['initiated'],
      ['ringing'],
      ['in-progress'],
      ['completed', 'busy', 'failed', 'no-answer', 'canceled'],
    ]);
  });
});

describe('VoIP.ms call records: re-ingest keeps the first outcome', () => {
  const call = (status: string, disposition: string): NormalizedCall => ({
    providerCallId: '1714990000.1',
    direction: 'inbound' as NormalizedCall['direction'],
    fromNumber: PATIENT,
    toNumber: PRACTICE,
    callerName: null,
    status: status as NormalizedCall['status'],
    disposition,
    durationSeconds: 65,
    rate: 0.009,
    cost: 0.0195,
    account: null,
    startedAt: new Date('2024-05-06T14:00:00Z'),
    endedAt: new Date('2024-05-06T14:01:05Z'),
  });
  const row = async () =>
    (await testDb.db.query('SELECT status, disposition FROM calls')).rows as {
      status: string;
      disposition: string;
    }[];

  it.each([
    ['completed', 'ANSWERED', 'failed', 'FAILED', 'completed', 'ANSWERED'],
    ['no-answer', 'NO ANSWER', 'completed', 'ANSWERED', 'no-answer', 'NO ANSWER'],
    ['ringing', 'RINGING', 'busy', 'BUSY', 'busy', 'BUSY'],
    ['busy', 'BUSY', 'ringing', 'RINGING', 'busy', 'BUSY'],
  ])(
    '%s (%s) then %s (%s) ends %s (%s)',
    async (first, firstDisposition, later, laterDisposition, status, disposition) => {
      // Prepare
      await upsertVoipmsCalls(testDb.db, [call(first, firstDisposition)]);

      // Act
      await upsertVoipmsCalls(testDb.db, [call(later, laterDisposition)]);

      // Assess
      expect(await row()).toEqual([{ status, disposition }]);
    },
  );
});

describe('VoIP.ms call records: what a re-ingested record may change', () => {
  const record = (overrides: Partial<NormalizedCall>): NormalizedCall => ({
    providerCallId: '1714990000.7',
    direction: 'inbound',
    fromNumber: PATIENT,
    toNumber: PRACTICE,
    callerName: 'Jane Roe',
    status: 'completed',
    disposition: 'ANSWERED',
    durationSeconds: 65,
    rate: 0.009,
    cost: 0.0195,
    startedAt: new Date('2024-05-06T14:00:00Z'),
    endedAt: new Date('2024-05-06T14:01:05Z'),
    account: null,
    ...overrides,
  });
  const stored = async () =>
    (
      await testDb.db.query(
        `SELECT from_number, to_number, caller_name, duration_seconds, cost::float AS cost, started_at, ended_at
         FROM calls`,
      )
    ).rows;

  it('takes the newest duration, cost, caller name and end; keeps the first numbers and start', async () => {
    // Prepare
    await upsertVoipmsCalls(testDb.db, [record({})]);

    // Act: VoIP.ms corrected the record (billing settled, the caller-name lookup finished)
    await upsertVoipmsCalls(testDb.db, [
      record({
        fromNumber: '+14155550999',
        toNumber: '+15085550999',
        callerName: 'Janet Roe',
        durationSeconds: 70,
        cost: 0.021,
        startedAt: new Date('2024-05-06T14:00:05Z'),
        endedAt: new Date('2024-05-06T14:01:15Z'),
      }),
    ]);

    // Assess
    expect(await stored()).toEqual([
      {
        from_number: PATIENT,
        to_number: PRACTICE,
        caller_name: 'Janet Roe',
        duration_seconds: 70,
        cost: 0.021,
        started_at: new Date('2024-05-06T14:00:00Z'),
        ended_at: new Date('2024-05-06T14:01:15Z'),
      },
    ]);
  });

  it('never blanks a known value with a missing one', async () => {
    // Prepare
    await upsertVoipmsCalls(testDb.db, [record({})]);

    // Act
    await upsertVoipmsCalls(testDb.db, [
      record({ callerName: null, cost: null, fromNumber: '', toNumber: '' }),
    ]);

    // Assess
    expect(await stored()).toEqual([
      expect.objectContaining({
        from_number: PATIENT,
        to_number: PRACTICE,
        caller_name: 'Jane Roe',
        cost: 0.0195,
      }),
    ]);
  });

  it('fills in numbers a first record lacked', async () => {
    // Prepare
    await upsertVoipmsCalls(testDb.db, [record({ fromNumber: '', toNumber: '' })]);

    // Act
    await upsertVoipmsCalls(testDb.db, [record({})]);

    // Assess
    expect(await stored()).toEqual([expect.objectContaining({ from_number: PATIENT, to_number: PRACTICE })]);
  });
});
