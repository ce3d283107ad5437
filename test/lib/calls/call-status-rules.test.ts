import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type CallStatusEvent, recordCallStatus, recordDialResult } from '../../../lib/calls/index.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

// The rules of the call-status statement, written out: a call moves forward by lifecycle step, then by
// Twilio's SequenceNumber; times and charges are filled once; a caller we missed gets one text, one we answered
// none.
const testDb = useTestDb();
const CALLER = '+14155550123';
const PRACTICE = '+15085550100';
let counter = 0;
const nextSid = () => `CA${String(++counter).padStart(32, '0')}`;

const callback = (
  sid: string,
  overrides: Partial<CallStatusEvent> = {},
): Promise<{ textBackQueued: boolean }> =>
  recordCallStatus.run(testDb.db, {
    provider: 'twilio',
    providerCallId: sid,
    direction: 'inbound',
    fromNumber: CALLER,
    toNumber: PRACTICE,
    callerName: null,
    status: 'ringing',
    sequence: 0,
    durationSeconds: null,
    cost: null,
    currency: null,
    startedAt: null,
    endedAt: null,
    answeredBy: null,
    // Saturday noon in New York: not quiet hours.
    receivedAt: '2026-03-14T16:00:00.000Z',
    ...overrides,
  });

const call = async (sid: string) =>
  (
    await testDb.db.query(
      `SELECT status, status_sequence, duration_seconds, cost::float AS cost, started_at, ended_at
       FROM calls WHERE provider_call_id = $1`,
      [sid],
    )
  ).rows[0];
const texts = async () =>
  (await testDb.db.query(`SELECT to_number, status FROM sms_messages WHERE kind = 'missed-call'`)).rows;

describe('call status: forward by step, then by sequence', () => {
  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    await testDb.db.query(`UPDATE voip_settings SET missed_call_text_back = false WHERE phone_number = '*'`);
    clearPracticeSettingsCache();
  });

  it.each([
    // [first status, its sequence, later status, its sequence, status kept, sequence kept]
    ['ringing', 1, 'in-progress', 2, 'in-progress', 2],
    ['in-progress', 2, 'ringing', 3, 'in-progress', 2],
    ['completed', 4, 'busy', 5, 'busy', 5],
    ['busy', 5, 'completed', 4, 'busy', 5],
    ['completed', 4, 'completed', 4, 'completed', 4],
    ['ringing', 1, 'completed', 0, 'completed', 0],
  ])('%s (#%d) then %s (#%d) ends %s (#%d)', async (first, firstSeq, later, laterSeq, status, sequence) => {
    // Prepare
    const sid = nextSid();
    await callback(sid, { status: first, sequence: firstSeq });

    // Act
    await callback(sid, { status: later, sequence: laterSeq });

    // Assess
    expect(await call(sid)).toMatchObject({ status, status_sequence: sequence });
  });

  it('a first callback without a sequence is passed by a later one of the same step', async () => {
    const sid = nextSid();
    await callback(sid, { status: 'completed', sequence: null });
    await callback(sid, { status: 'no-answer', sequence: 0 });
    expect(await call(sid)).toMatchObject({ status: 'no-answer', status_sequence: 0 });
  });

  it('keeps the earliest start and the first end, duration and cost, even from a callback that does not move', async () => {
    // Prepare
    const sid = nextSid();
    await callback(sid, { status: 'in-progress', sequence: 2, startedAt: '2026-03-14T15:59:00.000Z' });

    // Act: a late ringing (no move) still brings an earlier start; then the final callback; then a repeat
    await callback(sid, { status: 'ringing', sequence: 1, startedAt: '2026-03-14T15:58:30.000Z' });
    await callback(sid, {
      status: 'completed',
      sequence: 3,
      startedAt: '2026-03-14T15:59:00.000Z',
      endedAt: '2026-03-14T16:01:00.000Z',
      durationSeconds: 150,
      cost: 0.0085,
    });
    await callback(sid, {
      status: 'completed',
      sequence: 3,
      startedAt: '2026-03-14T15:59:30.000Z',
      endedAt: '2026-03-14T16:02:00.000Z',
      durationSeconds: 999,
      cost: 9.99,
    });

    // Assess
    expect(await call(sid)).toEqual({
      status: 'completed',
      status_sequence: 3,
      duration_seconds: 150,
      cost: 0.0085,
      started_at: new Date('2026-03-14T15:58:30.000Z'),
      ended_at: new Date('2026-03-14T16:01:00.000Z'),
    });
  });

  it('a callback that moves the call on still keeps the first end, duration and cost', async () => {
    // Prepare
    const sid = nextSid();
    const final = { endedAt: '2026-03-14T16:01:00.000Z', durationSeconds: 150, cost: 0.0085 };
    await callback(sid, { status: 'completed', sequence: 3, ...final });

    // Act: same step, later sequence (it moves), other figures
    await callback(sid, {
      status: 'no-answer',
      sequence: 4,
      endedAt: '2026-03-14T16:02:00.000Z',
      durationSeconds: 999,
      cost: 9.99,
    });

    // Assess
    expect(await call(sid)).toMatchObject({
      status: 'no-answer',
      duration_seconds: 150,
      cost: 0.0085,
      ended_at: new Date('2026-03-14T16:01:00.000Z'),
    });
  });

  it('fills in an end, a duration and a cost that came only with a callback that does not move the status', async () => {
    // Prepare
    const sid = nextSid();
    await callback(sid, { status: 'completed', sequence: 3 });

    // Act
    await callback(sid, { status: 'in-progress', sequence: 2, endedAt: '2026-03-14T16:01:00.000Z' });
    await callback(sid, { status: 'in-progress', sequence: 2, durationSeconds: 60 });
    await callback(sid, { status: 'in-progress', sequence: 2, cost: 0.01 });

    // Assess
    expect(await call(sid)).toMatchObject({
      status: 'completed',
      duration_seconds: 60,
      cost: 0.01,
      ended_at: new Date('2026-03-14T16:01:00.000Z'),
    });
  });
});

describe('call status: the first known caller details stay', () => {
  beforeEach(async () => {
    useConfig();
    await testDb.db.query(`UPDATE voip_settings SET missed_call_text_back = false WHERE phone_number = '*'`);
    clearPracticeSettingsCache();
  });
  const details = async (sid: string) =>
    (
      await testDb.db.query(
        `SELECT from_number, to_number, caller_name, currency, answered_by FROM calls WHERE provider_call_id = $1`,
        [sid],
      )
    ).rows[0];
  const first = {
    fromNumber: CALLER,
    toNumber: PRACTICE,
    callerName: 'JANE ROE',
    currency: 'USD',
    answeredBy: 'human',
  };
  const other = {
    fromNumber: '+14155550999',
    toNumber: '+15085550999',
    callerName: 'SOMEONE ELSE',
    currency: 'CAD',
    answeredBy: 'machine_start',
  };
  const none = { fromNumber: null, toNumber: null, callerName: null, currency: null, answeredBy: null };
  const asRow = (d: typeof first) => ({
    from_number: d.fromNumber,
    to_number: d.toNumber,
    caller_name: d.callerName,
    currency: d.currency,
    answered_by: d.answeredBy,
  });

  it('a later callback with other details changes none of them', async () => {
    const sid = nextSid();
    await callback(sid, { status: 'ringing', sequence: 1, ...first });
    await callback(sid, { status: 'completed', sequence: 2, ...other });
    expect(await details(sid)).toEqual(asRow(first));
  });

  it('details missing at first are filled in by a later callback', async () => {
    const sid = nextSid();
    await callback(sid, { status: 'ringing', sequence: 1, ...none });
    await callback(sid, { status: 'completed', sequence: 2, ...first });
    expect(await details(sid)).toEqual(asRow(first));
  });
});

describe('missed-call text: who gets one', () => {
  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    await testDb.db.query(
      `UPDATE voip_settings SET practice_name = 'Smile Dental', missed_call_text_back = true,
         timezone = 'America/New_York' WHERE phone_number = '*'`,
    );
    clearPracticeSettingsCache();
  });

  it.each(['no-answer', 'busy', 'canceled'])(
    'a caller whose inbound call ended %s gets one',
    async (status) => {
      const result = await callback(nextSid(), { status, sequence: 4 });
      expect(result).toEqual({ textBackQueued: true });
      expect(await texts()).toEqual([{ to_number: CALLER, status: 'pending' }]);
    },
  );

  it.each(['completed', 'answered'])('a completed call whose dial ended %s gets none', async (dialStatus) => {
    // Prepare
    const sid = nextSid();
    await recordDialResult.run(testDb.db, {
      provider: 'twilio',
      providerCallId: sid,
      fromNumber: CALLER,
      toNumber: PRACTICE,
      dialStatus,
    });

    // Act
    const result = await callback(sid, { status: 'completed', sequence: 4 });

    // Assess
    expect(result).toEqual({ textBackQueued: false });
    expect(await texts()).toEqual([]);
  });

  it('a completed call whose dial was not answered gets one', async () => {
    const sid = nextSid();
    await recordDialResult.run(testDb.db, {
      provider: 'twilio',
      providerCallId: sid,
      fromNumber: CALLER,
      toNumber: PRACTICE,
      dialStatus: 'no-answer',
    });
    expect(await callback(sid, { status: 'completed', sequence: 4 })).toEqual({ textBackQueued: true });
  });

  it('a late missed status that does not move the call claims nothing', async () => {
    // Prepare: the call ended busy; a no-answer with a lower sequence arrives after
    const sid = nextSid();
    await callback(sid, { status: 'in-progress', sequence: 2 });
    await testDb.db.query(`UPDATE voip_settings SET missed_call_text_back = false WHERE phone_number = '*'`);
    clearPracticeSettingsCache();
    await callback(sid, { status: 'busy', sequence: 5 });
    await testDb.db.query(`UPDATE voip_settings SET missed_call_text_back = true WHERE phone_number = '*'`);
    clearPracticeSettingsCache();

    // Act
    const result = await callback(sid, { status: 'no-answer', sequence: 4 });

    // Assess
    expect(result).toEqual({ textBackQueued: false });
    expect(await texts()).toEqual([]);
  });

  it('hands the stored text to the outbound queue, due after the wait plus a margin (35 s)', async () => {
    // Prepare
    const send = vi.spyOn(localQueues, 'send');

    // Act
    await callback(nextSid(), { status: 'no-answer', sequence: 4 });

    // Assess
    const [text] = await testDb.db
      .query<{ id: string }>(`SELECT id FROM sms_messages WHERE kind = 'missed-call'`)
      .then((r) => r.rows);
    expect(send).toHaveBeenCalledTimes(1);
    const [queue, body, delaySeconds] = send.mock.calls[0]!;
    expect(queue).toBe('outboundSms');
    expect(JSON.parse(body)).toEqual({ provider: 'twilio', messageId: Number(text!.id) });
    expect(delaySeconds).toBe(35);
    send.mockRestore();
  });

  it("follows the called number's own settings, not the practice-wide row", async () => {
    // Prepare: text-back on practice-wide, off for the Twilio number called
    await testDb.db.query(
      `INSERT INTO voip_settings (provider, phone_number, practice_name, missed_call_text_back)
       VALUES ('twilio', $1, 'Other Office', false)`,
      [PRACTICE],
    );
    clearPracticeSettingsCache();

    // Act
    const result = await callback(nextSid(), { status: 'no-answer', sequence: 4 }).finally(async () => {
      // Settings rows outlive the per-test truncation.
      await testDb.db.query(`DELETE FROM voip_settings WHERE phone_number = $1`, [PRACTICE]);
      clearPracticeSettingsCache();
    });

    // Assess
    expect(result).toEqual({ textBackQueued: false });
    expect(await texts()).toEqual([]);
  });

  it('a call from the practice number itself gets none', async () => {
    const result = await callback(nextSid(), { status: 'no-answer', sequence: 4, fromNumber: PRACTICE });
    expect(result).toEqual({ textBackQueued: false });
    expect(await texts()).toEqual([]);
  });

  it('an outbound call, or a caller who opted out, gets none', async () => {
    await testDb.db.query(
      `INSERT INTO opt_outs (phone_number, keyword, provider) VALUES ($1, 'STOP', 'twilio')`,
      ['+14155550124'],
    );
    expect(await callback(nextSid(), { status: 'no-answer', direction: 'outbound-api' })).toEqual({
      textBackQueued: false,
    });
    expect(await callback(nextSid(), { status: 'no-answer', fromNumber: '+14155550124' })).toEqual({
      textBackQueued: false,
    });
    expect(await texts()).toEqual([]);
  });
});
