import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Queryable } from '../../../lib/db/index.js';
import {
  type ClaimedText,
  SendFailure,
  sendStoredText,
  type TextSender,
} from '../../../lib/messages/send.js';
import { countMetric, logger } from '../../../lib/observability.js';
import { useTestDb } from '../../support/db.js';

// The rules of sending one stored text, against a scripted provider: what is claimed and for how long, who
// never gets a text, an unknown outcome checked with the provider before any resend, and what each answer of
// the provider leaves in the row. The metrics named here are the ones the dashboard and alarms read.
vi.mock('../../../lib/observability.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lib/observability.js')>()),
  countMetric: vi.fn(),
}));

const testDb = useTestDb();
const PATIENT = '+14155550123';
const PRACTICE = '+15005550006';

interface Stored {
  provider?: 'twilio' | 'voipms';
  status?: string;
  body?: string | null;
  kind?: string | null;
  intent?: string | null;
  claimedUntil?: string | null;
  sendAfter?: string | null;
  direction?: string;
  providerMessageId?: string;
}

async function stored(options: Stored = {}): Promise<number> {
  const { rows } = await testDb.db.query<{ id: number }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, kind,
       auto_response_intent, claimed_until, send_after, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '2026-03-02T15:04:05.000Z')
     RETURNING id`,
    [
      options.provider ?? 'twilio',
      options.providerMessageId ?? `reply:SM${Math.random().toString(16).slice(2).padEnd(32, '0')}`,
      options.direction ?? 'outbound',
      PRACTICE,
      PATIENT,
      options.body === undefined ? 'See you Tuesday' : options.body,
      options.status ?? 'pending',
      options.kind === undefined ? 'reply' : options.kind,
      options.intent ?? null,
      options.claimedUntil ?? null,
      options.sendAfter ?? null,
    ],
  );
  return Number(rows[0]!.id);
}

interface Row {
  status: string;
  error_code: string | null;
  provider_message_id: string;
  provider_sent_ids: string[] | null;
  num_segments: number | null;
  claimed: boolean;
}
const row = async (id: number): Promise<Row> =>
  (
    await testDb.db.query<Row>(
      `SELECT status, error_code, provider_message_id, provider_sent_ids, num_segments,
         claimed_until IS NOT NULL AS claimed
       FROM sms_messages WHERE id = $1`,
      [id],
    )
  ).rows[0]!;

/** A provider that records what it is asked and answers as scripted. */
function provider(
  script: { send?: (text: ClaimedText) => Promise<{ ids: string[] }>; found?: () => Promise<string[]> } = {},
) {
  const sends: ClaimedText[] = [];
  const lookups: { text: ClaimedText; since: Date }[] = [];
  const sender: TextSender = {
    async send(text) {
      sends.push(text);
      return script.send ? script.send(text) : { ids: [`SM${'a'.repeat(32)}`] };
    },
    async findSent(text, since) {
      lookups.push({ text, since });
      return script.found ? script.found() : [];
    },
  };
  return { sender, sends, lookups };
}
const failing = (failure: Error) => provider({ send: () => Promise.reject(failure) });

const metrics = () => vi.mocked(countMetric).mock.calls;

describe('sending a stored text', () => {
  beforeEach(() => vi.mocked(countMetric).mockClear());
  afterEach(() => vi.restoreAllMocks());

  it('a pending text is sent exactly once, with what was stored, and the row records the provider id', async () => {
    const id = await stored({ kind: 'missed-call' });
    const { sender, sends, lookups } = provider();

    expect(await sendStoredText(testDb.db, id, sender)).toBe('sent');

    expect(sends).toEqual([
      {
        id,
        provider: 'twilio',
        from: PRACTICE,
        to: PATIENT,
        body: 'See you Tuesday',
        kind: 'missed-call',
        createdAt: new Date('2026-03-02T15:04:05.000Z'),
      },
    ]);
    expect(lookups).toEqual([]);
    expect(await row(id)).toMatchObject({
      status: 'sent',
      error_code: null,
      provider_message_id: `SM${'a'.repeat(32)}`,
      provider_sent_ids: [`SM${'a'.repeat(32)}`],
      claimed: false,
    });
    expect(metrics()).toEqual([['OutboundSmsSent', { provider: 'twilio', kind: 'missed-call' }]]);
  });

  it('a text stored without a body is sent as an empty text, and one without a kind counts as "other"', async () => {
    const id = await stored({ body: null, kind: null, provider: 'voipms' });
    const { sender, sends } = provider({ send: async () => ({ ids: ['101', '102'] }) });

    expect(await sendStoredText(testDb.db, id, sender)).toBe('sent');

    expect(sends.map((text) => [text.body, text.kind])).toEqual([['', null]]);
    expect(metrics()).toEqual([['OutboundSmsSent', { provider: 'voipms', kind: 'other' }]]);
  });

  it('a VoIP.ms text sent in two parts keeps both part ids and counts two segments', async () => {
    const id = await stored({ provider: 'voipms', providerMessageId: 'reply:12345' });
    const { sender } = provider({ send: async () => ({ ids: ['101', '102'] }) });

    await sendStoredText(testDb.db, id, sender);

    expect(await row(id)).toMatchObject({
      status: 'sent',
      provider_message_id: 'reply:12345',
      provider_sent_ids: ['101', '102'],
      num_segments: 2,
      claimed: false,
    });
  });

  it('while a text is being sent it is claimed for fifteen minutes, and no other worker may take it', async () => {
    const id = await stored();
    let during: { status: string; minutes: number } | undefined;
    let second: string | undefined;
    const { sender, sends } = provider({
      send: async () => {
        during = (
          await testDb.db.query<{ status: string; minutes: number }>(
            `SELECT status, extract(epoch FROM claimed_until - now()) / 60 AS minutes FROM sms_messages WHERE id = $1`,
            [id],
          )
        ).rows[0];
        second = await sendStoredText(testDb.db, id, provider().sender);
        return { ids: [`SM${'b'.repeat(32)}`] };
      },
    });

    await sendStoredText(testDb.db, id, sender);

    expect(during?.status).toBe('sending');
    expect(Number(during?.minutes)).toBeGreaterThan(14.9);
    expect(Number(during?.minutes)).toBeLessThanOrEqual(15);
    expect(second).toBe('skipped');
    expect(sends).toHaveLength(1);
  });

  it('is not taken: a text already sent, one being sent under a live claim, one not due, an inbound text', async () => {
    const future = new Date(Date.now() + 60_000).toISOString();
    const ids = [
      await stored({ status: 'sent' }),
      await stored({ status: 'delivered' }),
      await stored({ status: 'failed' }),
      await stored({ status: 'sending', claimedUntil: future }),
      await stored({ sendAfter: future }),
      await stored({ direction: 'inbound' }),
    ];
    const { sender, sends, lookups } = provider();

    for (const id of ids) expect(await sendStoredText(testDb.db, id, sender)).toBe('skipped');
    expect(await sendStoredText(testDb.db, 999_999, sender)).toBe('skipped');

    expect(sends).toEqual([]);
    expect(lookups).toEqual([]);
    expect((await Promise.all(ids.map(row))).map((r) => r.status)).toEqual([
      'sent',
      'delivered',
      'failed',
      'sending',
      'pending',
      'pending',
    ]);
  });

  it('a text whose time has come is sent', async () => {
    const id = await stored({ sendAfter: new Date(Date.now() - 1_000).toISOString() });
    const { sender, sends } = provider();
    expect(await sendStoredText(testDb.db, id, sender)).toBe('sent');
    expect(sends).toHaveLength(1);
  });

  it('a recipient who opted out gets nothing: the text is suppressed without asking the provider', async () => {
    const id = await stored();
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ($1, 'STOP')`, [PATIENT]);
    const { sender, sends, lookups } = provider();

    expect(await sendStoredText(testDb.db, id, sender)).toBe('suppressed');

    expect(sends).toEqual([]);
    expect(lookups).toEqual([]);
    expect((await row(id)).status).toBe('suppressed');
    expect(metrics()).toEqual([['OutboundSmsSuppressed', { provider: 'twilio' }]]);
  });

  it('the confirmation of an opt-out still reaches the patient who just opted out', async () => {
    const id = await stored({ intent: 'opt_out', kind: 'reply' });
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ($1, 'STOP')`, [PATIENT]);
    const { sender, sends } = provider();

    expect(await sendStoredText(testDb.db, id, sender)).toBe('sent');
    expect(sends).toHaveLength(1);
  });

  it('a missed-call text for a call that was answered after all is canceled, not sent', async () => {
    const id = await stored({ kind: 'missed-call', providerMessageId: 'missed-call:CA1' });
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, status, dial_status)
       VALUES ('twilio', 'CA1', 'inbound', 'completed', 'completed')`,
    );
    const { sender, sends } = provider();

    expect(await sendStoredText(testDb.db, id, sender)).toBe('canceled');

    expect(sends).toEqual([]);
    expect((await row(id)).status).toBe('canceled');
    expect(metrics()).toEqual([['OutboundSmsCanceled', { provider: 'twilio' }]]);
  });

  describe('an earlier attempt whose outcome is unknown', () => {
    it('is looked up with the provider first, from when the text was stored; found, it is recorded, not resent', async () => {
      const id = await stored({ status: 'unknown' });
      const { sender, sends, lookups } = provider({ found: async () => [`SM${'c'.repeat(32)}`] });

      expect(await sendStoredText(testDb.db, id, sender)).toBe('already-sent');

      expect(sends).toEqual([]);
      expect(lookups.map(({ text, since }) => [text.id, since])).toEqual([
        [id, new Date('2026-03-02T15:04:05.000Z')],
      ]);
      expect(await row(id)).toMatchObject({
        status: 'sent',
        provider_message_id: `SM${'c'.repeat(32)}`,
        claimed: false,
      });
      expect(metrics()).toEqual([['OutboundSmsRecovered', { provider: 'twilio' }]]);
    });

    it('not found with the provider, it is sent once', async () => {
      const id = await stored({ status: 'unknown' });
      const { sender, sends, lookups } = provider();

      expect(await sendStoredText(testDb.db, id, sender)).toBe('sent');

      expect(lookups).toHaveLength(1);
      expect(sends).toHaveLength(1);
      expect((await row(id)).status).toBe('sent');
    });

    it('a claim abandoned mid-send (its lease over) is taken again, and checked like an unknown outcome', async () => {
      const id = await stored({
        status: 'sending',
        claimedUntil: new Date(Date.now() - 1_000).toISOString(),
      });
      const { sender, sends, lookups } = provider({ found: async () => [`SM${'d'.repeat(32)}`] });

      expect(await sendStoredText(testDb.db, id, sender)).toBe('already-sent');

      expect(lookups).toHaveLength(1);
      expect(sends).toEqual([]);
    });

    it('when the provider cannot be asked, nothing is sent and the outcome stays unknown, unclaimed', async () => {
      const id = await stored({ status: 'unknown' });
      const down = new Error('provider unreachable');
      const { sender, sends } = provider({ found: () => Promise.reject(down) });

      await expect(sendStoredText(testDb.db, id, sender)).rejects.toBe(down);

      expect(sends).toEqual([]);
      expect(await row(id)).toMatchObject({ status: 'unknown', claimed: false });
    });
  });

  describe('what the provider answers to a send', () => {
    it('an unexpected error may mean it went: the outcome is unknown, and the error goes to the queue', async () => {
      const id = await stored();
      const bug = new TypeError('cannot read the answer');

      await expect(sendStoredText(testDb.db, id, failing(bug).sender)).rejects.toBe(bug);

      expect(await row(id)).toMatchObject({ status: 'unknown', claimed: false, error_code: null });
    });

    it('"retry" (certainly not sent) puts it back to pending and throws, so the queue tries again', async () => {
      const id = await stored();
      const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const failure = new SendFailure('retry', '20429');

      await expect(sendStoredText(testDb.db, id, failing(failure).sender)).rejects.toBe(failure);

      expect(await row(id)).toMatchObject({ status: 'pending', claimed: false, error_code: null });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatchObject({ messageId: id, code: '20429', outcome: 'retry' });
      expect(JSON.stringify(warn.mock.calls[0])).not.toContain(PATIENT);
    });

    it('"unknown" (may have gone) leaves the outcome unknown and throws', async () => {
      const id = await stored();
      vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const failure = new SendFailure('unknown', 'timeout');

      await expect(sendStoredText(testDb.db, id, failing(failure).sender)).rejects.toBe(failure);

      expect(await row(id)).toMatchObject({ status: 'unknown', claimed: false });
    });

    it('"opted-out" records the opt-out as the provider reported it and suppresses the text for good', async () => {
      const id = await stored({ provider: 'voipms' });

      expect(await sendStoredText(testDb.db, id, failing(new SendFailure('opted-out', '21610')).sender)).toBe(
        'suppressed',
      );

      expect(await row(id)).toMatchObject({ status: 'suppressed', error_code: '21610', claimed: false });
      expect((await testDb.db.query('SELECT phone_number, keyword, provider FROM opt_outs')).rows).toEqual([
        { phone_number: PATIENT, keyword: 'provider opt-out', provider: 'voipms' },
      ]);
      expect(metrics()).toEqual([['OutboundSmsSuppressed', { provider: 'voipms' }]]);
    });

    it('"opted-out" for a number already opted out keeps the first record', async () => {
      const id = await stored();
      await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ($1, 'STOP')`, [PATIENT]);
      const id2 = await stored({ intent: 'opt_out' });
      await sendStoredText(testDb.db, id2, failing(new SendFailure('opted-out', '21610')).sender);
      expect((await testDb.db.query('SELECT keyword FROM opt_outs')).rows).toEqual([{ keyword: 'STOP' }]);
      expect((await row(id)).status).toBe('pending');
    });

    it('"permanent" marks it failed with the code, logs it and never retries', async () => {
      const id = await stored();
      const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);

      expect(await sendStoredText(testDb.db, id, failing(new SendFailure('permanent', '21211')).sender)).toBe(
        'failed',
      );

      expect(await row(id)).toMatchObject({ status: 'failed', error_code: '21211', claimed: false });
      expect(metrics()).toEqual([['OutboundSmsFailed', { provider: 'twilio', status: '21211' }]]);
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![1]).toMatchObject({ messageId: id, provider: 'twilio', code: '21211' });
      expect(JSON.stringify(error.mock.calls[0])).not.toContain(PATIENT);
    });

    it('a long text of which some parts went out is kept sent, with the failure noted: never resent', async () => {
      const id = await stored({ provider: 'voipms' });
      const failure = new SendFailure('unknown', 'timeout', ['201']);

      expect(await sendStoredText(testDb.db, id, failing(failure).sender)).toBe('sent');

      expect(await row(id)).toMatchObject({
        status: 'sent',
        error_code: 'partial:timeout',
        provider_sent_ids: ['201'],
        claimed: false,
      });
    });

    it('a failure names itself and says what failed', () => {
      const failure = new SendFailure('permanent', '21211');
      expect(failure).toBeInstanceOf(Error);
      expect(failure.name).toBe('SendFailure');
      expect(failure.message).toBe('send failed (permanent): 21211');
      expect(failure.sentIds).toEqual([]);
    });
  });

  describe('a Twilio text sent, and its delivery callbacks', () => {
    it('a callback that arrived before the send was recorded is folded into the row, and keeps its later status', async () => {
      const sid = `SM${'e'.repeat(32)}`;
      const id = await stored();
      const early = await stored({ providerMessageId: sid, status: 'delivered', body: null, kind: null });

      await sendStoredText(testDb.db, id, provider({ send: async () => ({ ids: [sid] }) }).sender);

      expect(await row(id)).toMatchObject({ status: 'delivered', provider_message_id: sid });
      expect((await testDb.db.query('SELECT id FROM sms_messages WHERE id = $1', [early])).rows).toEqual([]);
    });

    it('an early callback with a status before "sent" does not hold the row back', async () => {
      const sid = `SM${'f'.repeat(32)}`;
      const id = await stored();
      await stored({ providerMessageId: sid, status: 'queued', body: null, kind: null });

      await sendStoredText(testDb.db, id, provider({ send: async () => ({ ids: [sid] }) }).sender);

      expect(await row(id)).toMatchObject({ status: 'sent', provider_message_id: sid });
      expect((await testDb.db.query('SELECT count(*)::int AS n FROM sms_messages')).rows).toEqual([{ n: 1 }]);
    });

    it('an inbound text with the same id is never taken for an early callback', async () => {
      const sid = `SM${'0'.repeat(32)}`;
      const id = await stored();
      await stored({ providerMessageId: sid, status: 'received', direction: 'inbound' });

      await sendStoredText(testDb.db, id, provider({ send: async () => ({ ids: [sid] }) }).sender);

      expect((await testDb.db.query('SELECT count(*)::int AS n FROM sms_messages')).rows).toEqual([{ n: 2 }]);
    });

    it('a send the provider answered without an id is still recorded as sent', async () => {
      const id = await stored();

      expect(await sendStoredText(testDb.db, id, provider({ send: async () => ({ ids: [] }) }).sender)).toBe(
        'sent',
      );

      expect(await row(id)).toMatchObject({ status: 'sent', provider_sent_ids: [], claimed: false });
    });

    it('a text that went out but could not be recorded is never reported as failed (a retry would resend it)', async () => {
      const id = await stored();
      const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
      const flaky: Queryable = {
        query: (text, params) =>
          text.includes('provider_sent_ids')
            ? Promise.reject(new Error('connection reset'))
            : testDb.db.query(text, params),
      };

      expect(await sendStoredText(flaky, id, provider().sender)).toBe('sent');

      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![1]).toEqual({ messageId: id, error: 'connection reset' });
    });
  });
});
