import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db, Queryable } from '../../../lib/db/index.js';
import type { ReplyChoice } from '../../../lib/messages/auto-reply.js';
import { type InboundSmsEvent, recordInboundSms } from '../../../lib/messages/inbound.js';
import { countMetric } from '../../../lib/observability.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

// The rules of the inbound-text statement (store_inbound_sms), one at a time, with the decision made by hand so
// each rule is seen alone: a redelivery stores and answers nothing, opt-outs and opt-ins apply in the order the
// patient sent them, the reply budget (daily count and same-intent window) at its edges, the replay of a text
// whose TwiML answer was lost, texts from alert recipients (staff), and the events each text records.
vi.mock('../../../lib/observability.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lib/observability.js')>()),
  countMetric: vi.fn(),
}));

const testDb = useTestDb();
const PATIENT = '+14155550142';
const OTHER = '+14155550199';
const PRACTICE = '+15005550006';
const ON_CALL = '+14155550777';
const T0 = '2026-03-02T15:00:00.000Z';

let nextId = 0;
const sid = () => `SM${String(++nextId).padStart(32, '0')}`;

const choice = (overrides: Partial<ReplyChoice> = {}): ReplyChoice => ({
  intent: 'hours',
  language: 'en',
  reply: 'We open at 8.',
  opt_out: null,
  keyword: null,
  confirmation: false,
  ...overrides,
});
/** A question answered while subscribed, unanswered once opted out. */
const question = (intent: ReplyChoice['intent'] = 'hours') => ({
  subscribed: choice({ intent, reply: `About ${intent}.` }),
  optedOut: choice({ intent, reply: null }),
});
const stop = (reply: string | null = 'You will get no more texts.') => ({
  subscribed: choice({ intent: 'opt_out', reply, opt_out: 'out', keyword: 'ALTO', confirmation: true }),
  optedOut: choice({ intent: 'opt_out', reply, opt_out: 'out', keyword: 'ALTO', confirmation: true }),
});
const start = (reply: string | null = 'Welcome back.') => ({
  subscribed: choice({ intent: 'opt_in', reply, opt_out: 'in', keyword: 'START', confirmation: true }),
  optedOut: choice({ intent: 'opt_in', reply, opt_out: 'in', keyword: 'START', confirmation: true }),
});

function inbound(overrides: Partial<InboundSmsEvent> = {}): InboundSmsEvent {
  return {
    provider: 'twilio',
    providerMessageId: sid(),
    fromNumber: PATIENT,
    toNumber: PRACTICE,
    body: 'when do you open?',
    numSegments: 1,
    numMedia: 0,
    mediaUrls: [],
    decision: question(),
    officeDay: '2026-03-02',
    sentAt: T0,
    ...overrides,
  };
}

const receive = (event: InboundSmsEvent, replay = false, db: Queryable = testDb.db) =>
  recordInboundSms.run(db as Db, event, { replay });

const rows = async <R>(sql: string, params: unknown[] = []) => (await testDb.db.query<R>(sql, params)).rows;
const replies = () =>
  rows<{ body: string; status: string; intent: string }>(
    `SELECT body, status, auto_response_intent AS intent FROM sms_messages WHERE direction = 'outbound' ORDER BY id`,
  );
const optedOut = async (number = PATIENT) =>
  (await rows('SELECT 1 FROM opt_outs WHERE phone_number = $1', [number])).length === 1;
const budget = () =>
  rows<{ day: string; replies: number }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, replies FROM auto_reply_budget WHERE phone_number = $1`,
    [PATIENT],
  );
const eventTypes = async () =>
  (await rows<{ type: string }>('SELECT type FROM events ORDER BY type')).map((row) => row.type);
const handedOn = () => localQueues.messages('outboundSms');

describe('the inbound-text statement', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
    vi.mocked(countMetric).mockClear();
  });
  afterEach(() => localQueues.reset());

  describe('a redelivery', () => {
    it('stores the text once and answers it once: the repeat answers nothing, spends nothing, is counted', async () => {
      const event = inbound();

      const first = await receive(event);
      const second = await receive(event);

      expect(first).toEqual({
        stored: true,
        reply: { id: expect.any(Number), body: 'About hours.', intent: 'hours' },
      });
      expect(second).toEqual({ stored: false, reply: null });
      expect(await replies()).toEqual([{ body: 'About hours.', status: 'queued', intent: 'hours' }]);
      expect(await budget()).toEqual([{ day: '2026-03-02', replies: 1 }]);
      expect(vi.mocked(countMetric).mock.calls).toEqual([
        ['AutoReplySent', { intent: 'hours' }],
        ['DuplicateDelivery', { route: 'twilio/sms/incoming' }],
      ]);
    });

    it('of a STOP applies nothing a second time', async () => {
      const event = inbound({ decision: stop(), body: 'alto' });
      await receive(event);
      await receive(inbound({ decision: start(), body: 'start', sentAt: '2026-03-02T15:01:00.000Z' }));

      await receive(event);

      expect(await optedOut()).toBe(false);
      expect(await rows('SELECT state FROM consent_changes')).toEqual([{ state: 'in' }]);
    });

    it('stores media as counted: the larger of the stated count and the links given', async () => {
      await receive(
        inbound({ numMedia: 1, mediaUrls: ['https://m.example/a.jpg', 'https://m.example/b.jpg'] }),
      );
      await receive(inbound({ numMedia: 3, mediaUrls: ['https://m.example/c.jpg'] }));
      expect(
        await rows('SELECT num_media FROM sms_messages WHERE direction = $1 ORDER BY id', ['inbound']),
      ).toEqual([{ num_media: 2 }, { num_media: 3 }]);
    });
  });

  describe('the reply', () => {
    it('a Twilio reply rides on the TwiML answer: returned, and not handed to the outbound worker', async () => {
      const result = await receive(inbound());
      expect(result.reply?.body).toBe('About hours.');
      expect(handedOn()).toEqual([]);
    });

    it('a VoIP.ms reply is never returned: it waits as pending and is handed to the outbound worker once', async () => {
      const result = await receive(inbound({ provider: 'voipms', providerMessageId: '998877' }));

      expect(result).toEqual({ stored: true, reply: null });
      const [reply] = await rows<{ id: number; status: string }>(
        `SELECT id, status FROM sms_messages WHERE direction = 'outbound'`,
      );
      expect(reply?.status).toBe('pending');
      expect(handedOn()).toEqual([{ provider: 'voipms', messageId: Number(reply!.id) }]);
    });

    it('a text with nothing to say gets no reply row, spends no budget and counts no auto-reply', async () => {
      const result = await receive(
        inbound({ decision: { subscribed: choice({ reply: null }), optedOut: choice({ reply: null }) } }),
      );
      expect(result).toEqual({ stored: true, reply: null });
      expect(await replies()).toEqual([]);
      expect(await budget()).toEqual([]);
      expect(vi.mocked(countMetric).mock.calls).toEqual([]);
    });

    it('a STOP from a sender we never answer records the opt-out and stores no reply', async () => {
      await receive(inbound({ decision: stop(null) }));
      expect(await optedOut()).toBe(true);
      expect(await replies()).toEqual([]);
    });
  });

  describe('opt-out and opt-in', () => {
    it('an opt-out is confirmed once; it neither spends nor needs the daily budget', async () => {
      await receive(inbound());
      await receive(inbound({ decision: stop() }));
      await receive(inbound({ decision: stop() }));

      expect(await optedOut()).toBe(true);
      expect((await replies()).map((reply) => reply.intent)).toEqual(['hours', 'opt_out']);
      expect(await budget()).toEqual([{ day: '2026-03-02', replies: 1 }]);
    });

    it('an opt-in after an opt-out lifts it and is confirmed once', async () => {
      await receive(inbound({ decision: stop() }));
      await receive(inbound({ decision: start(), sentAt: '2026-03-02T15:01:00.000Z' }));

      expect(await optedOut()).toBe(false);
      expect((await replies()).map((reply) => reply.intent)).toEqual(['opt_out', 'opt_in']);
    });

    it('one patient’s opt-in lifts only their own opt-out', async () => {
      await receive(inbound({ decision: stop(), fromNumber: OTHER }));
      await receive(inbound({ decision: stop() }));
      await receive(inbound({ decision: start(), sentAt: '2026-03-02T15:01:00.000Z' }));

      expect(await optedOut(OTHER)).toBe(true);
      expect(await optedOut(PATIENT)).toBe(false);
    });

    it('an opted-out patient gets the opted-out answer (none), and what they ask spends no budget', async () => {
      await receive(inbound({ decision: stop() }));
      const result = await receive(inbound());
      expect(result.reply).toBeNull();
      expect((await replies()).map((reply) => reply.intent)).toEqual(['opt_out']);
      expect(await budget()).toEqual([]);
    });

    it('a STOP sent before a START but delivered after it is stored and not applied', async () => {
      await receive(inbound({ decision: start(), sentAt: '2026-03-02T15:05:00.000Z' }));
      await receive(inbound({ decision: stop(), sentAt: '2026-03-02T15:04:00.000Z' }));

      expect(await optedOut()).toBe(false);
      expect(await rows('SELECT state FROM consent_changes')).toEqual([{ state: 'in' }]);
      expect(await rows(`SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'inbound'`)).toEqual([
        { n: 2 },
      ]);
    });

    it('within the same second, the one that arrived later wins', async () => {
      await receive(inbound({ decision: stop(), sentAt: T0 }));
      await receive(inbound({ decision: start(), sentAt: T0 }));

      expect(await optedOut()).toBe(false);
      expect(await rows('SELECT state FROM consent_changes')).toEqual([{ state: 'in' }]);
    });
  });

  describe('the reply budget', () => {
    it('a second reply of the same intent within ten minutes is not sent; another intent still is', async () => {
      await receive(inbound({ decision: question('hours') }));
      await receive(inbound({ decision: question('hours') }));
      await receive(inbound({ decision: question('location') }));

      expect((await replies()).map((reply) => reply.intent)).toEqual(['hours', 'location']);
      expect(await budget()).toEqual([{ day: '2026-03-02', replies: 2 }]);
    });

    it('the same-intent window holds up to exactly ten minutes, and is over just after', async () => {
      const answered = async (ago: string) =>
        testDb.db.transaction(async (tx) => {
          await tx.query('DELETE FROM auto_reply_budget');
          await tx.query(
            `INSERT INTO auto_reply_budget (phone_number, day, replies, last_by_intent)
             VALUES ($1, '2026-03-02', 1, jsonb_build_object('hours', now() - $2::interval))`,
            [PATIENT, ago],
          );
          return (await receive(inbound(), false, tx)).reply !== null;
        });

      expect(await answered('10 minutes')).toBe(false);
      expect(await answered('10 minutes 1 millisecond')).toBe(true);
    });
  });

  describe('the replay of a text after an outage (its webhook answer long gone)', () => {
    it('a Twilio text first stored by the replay: its reply waits as pending for the outbound worker', async () => {
      const result = await receive(inbound(), true);

      expect(result).toEqual({ stored: true, reply: null });
      expect((await replies()).map((reply) => reply.status)).toEqual(['pending']);
      expect(handedOn()).toHaveLength(1);
    });

    it('a Twilio text whose first statement committed but whose answer was lost: the reply becomes a text to send', async () => {
      const event = inbound();
      await receive(event);

      const result = await receive(event, true);

      expect(result).toEqual({ stored: false, reply: null });
      expect((await replies()).map((reply) => reply.status)).toEqual(['pending']);
      expect(handedOn()).toHaveLength(1);
    });

    it('a live redelivery leaves the reply to the TwiML answer', async () => {
      const event = inbound();
      await receive(event);

      await receive(event, false);

      expect((await replies()).map((reply) => reply.status)).toEqual(['queued']);
      expect(handedOn()).toEqual([]);
    });

    it('a reply already sent or delivered is never sent again', async () => {
      const event = inbound();
      await receive(event);
      await testDb.db.query(`UPDATE sms_messages SET status = 'delivered' WHERE direction = 'outbound'`);

      await receive(event, true);

      expect((await replies()).map((reply) => reply.status)).toEqual(['delivered']);
      expect(handedOn()).toEqual([]);
    });

    it('touches no other text: only the reply to the replayed one', async () => {
      await receive(inbound({ fromNumber: OTHER }));
      const event = inbound();
      await receive(event);

      await receive(event, true);

      expect(
        await rows(`SELECT to_number, status FROM sms_messages WHERE direction = 'outbound' ORDER BY id`),
      ).toEqual([
        { to_number: OTHER, status: 'queued' },
        { to_number: PATIENT, status: 'pending' },
      ]);
    });

    it('a replay of a VoIP.ms text leaves a Twilio reply of the same id alone', async () => {
      const event = inbound();
      await receive(event);

      await receive({ ...event, provider: 'voipms', decision: question('location') }, true);

      expect(
        await rows(`SELECT provider, status FROM sms_messages WHERE direction = 'outbound' ORDER BY id`),
      ).toEqual([
        { provider: 'twilio', status: 'queued' },
        { provider: 'voipms', status: 'pending' },
      ]);
    });
  });

  describe('texts from an alert recipient (staff)', () => {
    beforeEach(async () => {
      await testDb.db.query(
        `INSERT INTO alert_recipients (practice_number, phone_number, position) VALUES ($1, $2, 1)`,
        [PRACTICE, ON_CALL],
      );
    });

    const alert = async (
      overrides: {
        recipient?: string;
        status?: string;
        age?: string;
        practice?: string;
        event?: string;
      } = {},
    ) =>
      Number(
        (
          await rows<{ id: number }>(
            `INSERT INTO alerts (event_id, event_type, provider, practice_number, recipient_number, position, status,
               escalate_at, created_at)
             VALUES ($1, 'patient.emergency', 'twilio', $2, $3, 1, $4, now() + interval '5 minutes',
               now() - $5::interval)
             RETURNING id`,
            [
              overrides.event ?? '00000000-0000-0000-0000-000000000001',
              overrides.practice ?? PRACTICE,
              overrides.recipient ?? ON_CALL,
              overrides.status ?? 'sent',
              overrides.age ?? '1 minute',
            ],
          )
        )[0]!.id,
      );
    const alertState = (id: number) =>
      rows<{ status: string; escalating: boolean }>(
        'SELECT status, escalate_at IS NOT NULL AS escalating FROM alerts WHERE id = $1',
        [id],
      ).then((found) => found[0]);
    const fromStaff = (body: string) => receive(inbound({ fromNumber: ON_CALL, body }));

    it('are stored as staff, never answered, never an opt-out, never a patient event', async () => {
      const result = await receive(inbound({ fromNumber: ON_CALL, decision: stop() }));

      expect(result).toEqual({ stored: true, reply: null });
      expect(await rows(`SELECT kind FROM sms_messages`)).toEqual([{ kind: 'staff' }]);
      expect(await optedOut(ON_CALL)).toBe(false);
      expect(await eventTypes()).toEqual([]);
    });

    it('the recipient of one practice number is a patient to another', async () => {
      const result = await receive(inbound({ fromNumber: ON_CALL, toNumber: '+15005550009' }));
      expect(result.reply?.body).toBe('About hours.');
    });

    it('a patient texting a number that has alert recipients is still a patient', async () => {
      const result = await receive(inbound());
      expect(result.reply?.body).toBe('About hours.');
      expect(await eventTypes()).toEqual(['sms.auto_replied', 'sms.received']);
    });

    it.each(['OK', 'okay.', ' ack! '])(
      '"%s" acknowledges the recipient’s open alert and stops its escalation',
      async (word) => {
        const id = await alert();
        await fromStaff(word);
        expect(await alertState(id)).toEqual({ status: 'acknowledged', escalating: false });
        expect(await eventTypes()).toEqual(['alert.acknowledged']);
      },
    );

    it.each(['pending', 'sent', 'delivered', 'escalated'])(
      'an alert still %s can be acknowledged',
      async (status) => {
        const id = await alert({ status });
        await fromStaff('OK');
        expect((await alertState(id))?.status).toBe('acknowledged');
      },
    );

    it('any other text from staff acknowledges nothing', async () => {
      const id = await alert();
      await fromStaff('on my way');
      expect(await alertState(id)).toEqual({ status: 'sent', escalating: true });
      expect(await eventTypes()).toEqual([]);
    });

    it('an OK acknowledges neither an alert over a day old nor a failed one', async () => {
      const old = await alert({ age: '1 day 1 second', event: '00000000-0000-0000-0000-000000000002' });
      const failed = await alert({ status: 'failed', event: '00000000-0000-0000-0000-000000000003' });
      await fromStaff('OK');
      expect(await alertState(old)).toEqual({ status: 'sent', escalating: true });
      expect(await alertState(failed)).toEqual({ status: 'failed', escalating: true });
    });

    it('an alert exactly a day old is no longer open to acknowledgement', async () => {
      const acknowledged = await testDb.db.transaction(async (tx) => {
        const { rows: made } = await tx.query<{ id: number }>(
          `INSERT INTO alerts (event_id, event_type, provider, practice_number, recipient_number, position, status,
             created_at)
           VALUES ('00000000-0000-0000-0000-000000000004', 'patient.emergency', 'twilio', $1, $2, 1, 'sent',
             now() - interval '1 day')
           RETURNING id`,
          [PRACTICE, ON_CALL],
        );
        await receive(inbound({ fromNumber: ON_CALL, body: 'OK' }), false, tx);
        return (await tx.query<{ status: string }>('SELECT status FROM alerts WHERE id = $1', [made[0]!.id]))
          .rows[0]!.status;
      });
      expect(acknowledged).toBe('sent');
    });

    it('an OK acknowledges only its sender’s alerts on that practice number; the others of the event stop escalating', async () => {
      const event = '00000000-0000-0000-0000-000000000005';
      const mine = await alert({ event });
      const colleague = await alert({ event, recipient: '+14155550888' });
      const elsewhere = await alert({
        event: '00000000-0000-0000-0000-000000000006',
        practice: '+15005550009',
      });
      const unrelated = await alert({
        event: '00000000-0000-0000-0000-000000000007',
        recipient: '+14155550888',
      });

      await fromStaff('OK');

      expect(await alertState(mine)).toEqual({ status: 'acknowledged', escalating: false });
      expect(await alertState(colleague)).toEqual({ status: 'sent', escalating: false });
      expect(await alertState(elsewhere)).toEqual({ status: 'sent', escalating: true });
      expect(await alertState(unrelated)).toEqual({ status: 'sent', escalating: true });
    });

    it('a patient’s text leaves every alert as it is', async () => {
      const id = await alert({ recipient: '+14155550888' });
      await receive(inbound({ body: 'OK' }));
      expect(await alertState(id)).toEqual({ status: 'sent', escalating: true });
    });
  });

  describe('events', () => {
    it('a patient’s question records that it was received and answered, once', async () => {
      const event = inbound();
      await receive(event);
      await receive(event);
      expect(await eventTypes()).toEqual(['sms.auto_replied', 'sms.received']);
    });

    it('an emergency also records patient.emergency, whether or not it was answered', async () => {
      await receive(
        inbound({
          decision: {
            subscribed: choice({ intent: 'emergency', reply: null }),
            optedOut: choice({ intent: 'emergency', reply: null }),
          },
        }),
      );
      expect(await eventTypes()).toEqual(['patient.emergency', 'sms.received']);
    });

    it('patient.emergency says whether the emergency was answered', async () => {
      const emergency = (reply: string | null) => ({
        subscribed: choice({ intent: 'emergency', reply }),
        optedOut: choice({ intent: 'emergency', reply: null }),
      });
      await receive(inbound({ decision: emergency('Call 911 or our emergency line.') }));
      await receive(inbound({ fromNumber: OTHER, decision: emergency(null) }));
      const details = await rows<{ from: string; auto_replied: boolean }>(
        `SELECT detail->>'from' AS from, (detail->>'auto_replied')::boolean AS auto_replied
         FROM events WHERE type = 'patient.emergency' ORDER BY detail->>'from'`,
      );
      expect(details).toEqual([
        { from: PATIENT, auto_replied: true },
        { from: OTHER, auto_replied: false },
      ]);
    });
  });

  describe('guards the statement keeps whatever the decision says', () => {
    it('never answers an opted-out sender, even given a reply for them', async () => {
      await receive(inbound({ decision: stop() }));
      const answered = await receive(
        inbound({ decision: { subscribed: choice(), optedOut: choice({ reply: 'Answered anyway?' }) } }),
      );
      expect(answered.reply).toBeNull();
      expect((await replies()).map((reply) => reply.body)).toEqual(['You will get no more texts.']);
    });
  });
});
