import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/twilio-voice-status.js';
import { recordDialResult } from '../../lib/calls/index.js';
import { relayFollowUps } from '../../lib/followups/index.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { localQueues } from '../../lib/queue/index.js';
import { PRACTICE_TWILIO_NUMBER, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import { fakeSid, twilioVoiceStatusEvent } from '../support/twilio.js';

const testDb = useTestDb();
const CALLER = '+14155550123';
// Saturday 14 March 2026, noon in New York: office closed, not quiet hours.
const DAYTIME = new Date('2026-03-14T16:00:00Z');
// Tuesday 10 March 2026, 23:00 in New York: quiet hours.
const NIGHT = new Date('2026-03-11T03:00:00Z');

const callRow = async (sid: string) =>
  (
    await testDb.db.query<Record<string, unknown>>(
      `SELECT status, status_sequence, duration_seconds, cost::float AS cost, currency, started_at, ended_at, direction
       FROM calls WHERE provider_call_id = $1`,
      [sid],
    )
  ).rows[0];
const textBacks = () => localQueues.messages('outboundSms') as Record<string, unknown>[];
/** The missed-call texts stored (the record of what must be sent), oldest first. */
const storedTextBacks = async () =>
  (
    await testDb.db.query<{
      id: number;
      provider_message_id: string;
      from_number: string;
      to_number: string;
      body: string;
      status: string;
      waits: boolean;
    }>(
      `SELECT id, provider_message_id, from_number, to_number, body, status, send_after > now() AS waits
       FROM sms_messages WHERE kind = 'missed-call' ORDER BY id`,
    )
  ).rows;

describe('POST /webhooks/twilio/voice/status', () => {
  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(DAYTIME);
    await testDb.db.query(
      `UPDATE voip_settings SET practice_name = 'Smile Dental', missed_call_text_back = true,
         emergency_line = '+15085550199' WHERE phone_number = '*'`,
    );
    clearPracticeSettingsCache();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // Every CallStatus Twilio sends, written out (not the product's own list).
  it.each([
    'queued',
    'initiated',
    'ringing',
    'in-progress',
    'completed',
    'busy',
    'failed',
    'no-answer',
    'canceled',
  ])('accepts CallStatus %s', async (status) => {
    const sid = fakeSid('CA');
    const response = await invoke(handler, twilioVoiceStatusEvent({ CallSid: sid, CallStatus: status }));
    expect(response.statusCode).toBe(204);
    expect((await callRow(sid))?.status).toBe(status);
  });

  it('completed: duration, start and end times, and cost (price is a charge)', async () => {
    const sid = fakeSid('CA');
    await invoke(
      handler,
      twilioVoiceStatusEvent({
        CallSid: sid,
        CallStatus: 'completed',
        CallDuration: '42',
        Timestamp: 'Tue, 10 Mar 2026 14:03:01 +0000',
        Price: '-0.0085',
        PriceUnit: 'USD',
        SequenceNumber: '3',
      }),
    );
    const row = await callRow(sid);
    expect(row).toMatchObject({
      status: 'completed',
      status_sequence: 3,
      duration_seconds: 42,
      cost: 0.0085,
    });
    expect(row?.currency).toBe('USD');
    expect(new Date(row!.ended_at as string).toISOString()).toBe('2026-03-10T14:03:01.000Z');
    expect(new Date(row!.started_at as string).toISOString()).toBe('2026-03-10T14:02:19.000Z');
  });

  it('never moves backwards: shuffled callbacks end at the final status', async () => {
    const lifecycle = ['initiated', 'ringing', 'in-progress', 'completed'];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(lifecycle, { minLength: 4, maxLength: 4 }), async (order) => {
        const sid = fakeSid('CA');
        for (const status of order) {
          const sequence = String(lifecycle.indexOf(status));
          await invoke(
            handler,
            twilioVoiceStatusEvent({
              CallSid: sid,
              CallStatus: status,
              SequenceNumber: sequence,
              Direction: 'outbound-api',
            }),
          );
        }
        const row = await callRow(sid);
        expect(row).toMatchObject({ status: 'completed', status_sequence: 3, duration_seconds: 42 });
      }),
      { numRuns: 8 },
    );
  });

  it('a repeated callback changes nothing (not even updated_at)', async () => {
    const sid = fakeSid('CA');
    const event = () =>
      twilioVoiceStatusEvent({ CallSid: sid, CallStatus: 'completed', SequenceNumber: '2' });
    await invoke(handler, event());
    const before = (await testDb.db.query('SELECT updated_at FROM calls')).rows[0];
    await invoke(handler, event());
    expect((await testDb.db.query('SELECT updated_at FROM calls')).rows[0]).toEqual(before);
  });

  it.each(['no-answer', 'busy', 'canceled'])(
    'missed inbound call (%s) queues one missed-call text',
    async (status) => {
      const sid = fakeSid('CA');
      const response = await invoke(
        handler,
        twilioVoiceStatusEvent({ CallSid: sid, CallStatus: status, From: CALLER }),
      );
      expect(response.statusCode).toBe(204);
      const stored = await storedTextBacks();
      expect(stored).toEqual([
        {
          id: expect.any(Number),
          provider_message_id: `missed-call:${sid}`,
          to_number: CALLER,
          from_number: PRACTICE_TWILIO_NUMBER,
          body: expect.stringContaining('Smile Dental'),
          status: 'pending',
          waits: true,
        },
      ]);
      expect(textBacks()).toEqual([{ provider: 'twilio', messageId: Number(stored[0]!.id) }]);
    },
  );

  it('a completed inbound call whose dial was not answered (voicemail, after hours) is missed too', async () => {
    const sid = fakeSid('CA');
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, route, dial_status)
       VALUES ('twilio', $1, 'inbound', $2, $3, 'in-progress', 'office', 'no-answer')`,
      [sid, CALLER, PRACTICE_TWILIO_NUMBER],
    );
    await invoke(handler, twilioVoiceStatusEvent({ CallSid: sid, CallStatus: 'completed' }));
    expect(textBacks()).toHaveLength(1);
  });

  it('an answered call gets no text', async () => {
    const sid = fakeSid('CA');
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, route, dial_status)
       VALUES ('twilio', $1, 'inbound', $2, $3, 'in-progress', 'office', 'completed')`,
      [sid, CALLER, PRACTICE_TWILIO_NUMBER],
    );
    await invoke(handler, twilioVoiceStatusEvent({ CallSid: sid, CallStatus: 'completed' }));
    expect(textBacks()).toEqual([]);
  });

  it('a text whose queueing failed is still stored, the day stays claimed, and the relay hands it on', async () => {
    // Prepare: the queue refuses the job after the statement stored the text.
    const queues = localQueues as unknown as { send: (...args: unknown[]) => void };
    const send = queues.send;
    queues.send = () => {
      throw new Error('queue down');
    };
    try {
      // Act
      const response = await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer' }));
      // Assess: accepted (nothing for Twilio to retry), nothing queued yet
      expect(response.statusCode).toBe(204);
    } finally {
      queues.send = send;
    }
    expect(textBacks()).toEqual([]);
    const [stored] = await storedTextBacks();

    // Act: two minutes on, the relay runs
    await testDb.db.query(
      "UPDATE sms_messages SET created_at = now() - interval '2 minutes', send_after = now() - interval '90 seconds'",
    );
    await relayFollowUps(testDb.db);

    // Assess
    expect(textBacks()).toEqual([{ provider: 'twilio', messageId: Number(stored!.id) }]);
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'busy' }));
    expect(await storedTextBacks()).toHaveLength(1);
  });

  it('a dial result written late (answered after all) cancels the waiting text and gives the day back', async () => {
    // Prepare: the final status lands first, the <Dial> result's write was deferred
    const sid = fakeSid('CA');
    await invoke(handler, twilioVoiceStatusEvent({ CallSid: sid, CallStatus: 'completed', From: CALLER }));
    expect((await storedTextBacks()).map((text) => text.status)).toEqual(['pending']);

    // Act: the ingest worker writes the dial result
    await recordDialResult.run(
      testDb.db,
      {
        provider: 'twilio',
        providerCallId: sid,
        fromNumber: CALLER,
        toNumber: PRACTICE_TWILIO_NUMBER,
        dialStatus: 'completed',
      },
      { replay: true },
    );

    // Assess
    expect((await storedTextBacks()).map((text) => text.status)).toEqual(['canceled']);
    expect((await testDb.db.query('SELECT count(*)::int AS n FROM outbound_guards')).rows).toEqual([
      { n: 0 },
    ]);
  });

  it('at most one missed-call text per caller per office day', async () => {
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer' }));
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'busy' }));
    expect(textBacks()).toHaveLength(1);
    vi.setSystemTime(new Date('2026-03-16T14:00:00Z')); // Monday 10:00
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer' }));
    expect(textBacks()).toHaveLength(2);
  });

  it('no text to an opted-out caller, in quiet hours, to a non-textable number, for outbound calls, or when off', async () => {
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ('+14155550111', 'STOP')`);
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', From: '+14155550111' }));
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', From: 'Anonymous' }));
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', From: '+266696687' }));
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', Direction: 'outbound-api' }));
    vi.setSystemTime(NIGHT);
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', From: '+14155550122' }));
    vi.setSystemTime(DAYTIME);
    await testDb.db.query('UPDATE voip_settings SET missed_call_text_back = false');
    clearPracticeSettingsCache();
    await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'no-answer', From: '+14155550133' }));

    expect(textBacks()).toEqual([]);
  });

  it('answers 400 for an unknown CallStatus', async () => {
    const response = await invoke(handler, twilioVoiceStatusEvent({ CallStatus: 'exploded' }));
    expect(response.statusCode).toBe(400);
  });
});
