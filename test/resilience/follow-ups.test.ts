import type { SQSEvent } from 'aws-lambda';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as ingestWorker } from '../../functions/ingest-worker.js';
import { handler as outboundWorker } from '../../functions/outbound-sms-worker.js';
import { handler as twilioRecordingStatus } from '../../functions/twilio-recording-status.js';
import { handler as twilioSmsIncoming } from '../../functions/twilio-sms-incoming.js';
import { handler as voipmsSmsIncoming } from '../../functions/voipms-sms-incoming.js';
import { createPgDb, type Db, setDb } from '../../lib/db/index.js';
import { relayFollowUps } from '../../lib/followups/index.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { localQueues } from '../../lib/queue/index.js';
import { type FakeTwilioApi, startFakeTwilioApi } from '../fakes/twilio-api.js';
import { type FakeVoipms, startFakeVoipms } from '../fakes/voipms-api.js';
import { PATIENT_E164, voipmsEvent, voipmsSmsParams } from '../lib/voipms/factories.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, useConfig } from '../support/config.js';
import { serverUrl, unreachableDb, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import { twilioRecordingStatusEvent, twilioSmsIncomingEvent } from '../support/twilio.js';

/**
 * Issue: "nothing lost, nothing twice". Each scenario makes a statement slow, a database absent or deliveries
 * reordered, then checks that every follow-up (a text to send, a recording to archive) happens exactly once.
 */

const testDb = useTestDb();
let voipms: FakeVoipms;
let twilio: FakeTwilioApi;
const TWILIO_PATIENT = '+14155550123';

beforeAll(async () => {
  voipms = await startFakeVoipms();
  voipms.seedDid('5145550000');
  twilio = await startFakeTwilioApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
});
afterAll(async () => {
  await voipms.close();
  await twilio.close();
});

beforeEach(() => {
  useConfig({
    VOIPMS_API_URL: voipms.url,
    VOIPMS_USERNAME: voipms.username,
    VOIPMS_PASSWORD: voipms.password,
    TWILIO_API_BASE_URL: twilio.url,
  });
  localQueues.reset();
  clearPracticeSettingsCache();
  voipms.sent.length = 0;
  twilio.reset();
});
afterEach(() => setDb(testDb.db));

const asSqs = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) }) as never),
});

/** Runs whatever waits on a local queue through its worker, as SQS would (then empties the queue). */
async function drainTo(queue: 'ingest' | 'outboundSms', worker: (event: SQSEvent) => Promise<unknown>) {
  const jobs = localQueues.drain(queue);
  if (jobs.length) await worker(asSqs(jobs));
  return jobs.length;
}

/** The relay, then the outbound worker: what AWS does every minute. Twice, as overlapping runs may. */
async function relayAndSend() {
  for (let i = 0; i < 2; i++) {
    await relayFollowUps(testDb.db, { settleMs: 0 });
    await drainTo('outboundSms', outboundWorker);
  }
}

const down = unreachableDb();

describe('during an outage', () => {
  it('a Twilio text from a patient who opted out in Spanish gets no reply, then or after', async () => {
    // Prepare: the patient opted out in words Twilio does not know
    await invoke(
      twilioSmsIncoming,
      twilioSmsIncomingEvent({ From: TWILIO_PATIENT, Body: 'ya no me manden mensajes' }),
    );
    expect((await testDb.db.query('SELECT phone_number FROM opt_outs')).rows).toEqual([
      { phone_number: TWILIO_PATIENT },
    ]);
    twilio.reset();

    // Act: Postgres goes away, the patient writes again; then it comes back and the deferred text is written
    setDb(down);
    const response = await invoke(
      twilioSmsIncoming,
      twilioSmsIncomingEvent({ From: TWILIO_PATIENT, Body: 'what are your hours?' }),
    );
    setDb(testDb.db);
    await drainTo('ingest', ingestWorker);
    await relayAndSend();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<Message');
    expect(twilio.messages).toEqual([]);
  });

  it('a subscribed patient’s Twilio text is answered once Postgres is back, through the Messages API', async () => {
    setDb(down);
    const response = await invoke(
      twilioSmsIncoming,
      twilioSmsIncomingEvent({ From: TWILIO_PATIENT, Body: 'what are your hours?' }),
    );
    setDb(testDb.db);
    await drainTo('ingest', ingestWorker);
    await drainTo('outboundSms', outboundWorker);
    await relayAndSend();

    expect(response.body).not.toContain('<Message');
    expect(twilio.messages).toHaveLength(1);
    expect(twilio.messages[0]).toMatchObject({ to: TWILIO_PATIENT });
  });
});

describe('opt-out and opt-in applied in the order the patient sent them', () => {
  it('START then STOP, stored STOP first: the patient stays opted out and gets no welcome back', async () => {
    // Prepare: opted out earlier
    await invoke(
      voipmsSmsIncoming,
      voipmsEvent(voipmsSmsParams({ message: 'STOP', date: '2026-11-02 09:00:00' })),
    );
    localQueues.reset();

    // Act: START at 10:00 and STOP at 10:05, delivered in the other order
    await invoke(
      voipmsSmsIncoming,
      voipmsEvent(voipmsSmsParams({ message: 'STOP', date: '2026-11-02 10:05:00' })),
    );
    await invoke(
      voipmsSmsIncoming,
      voipmsEvent(voipmsSmsParams({ message: 'START', date: '2026-11-02 10:00:00' })),
    );

    // Assess
    expect((await testDb.db.query('SELECT phone_number FROM opt_outs')).rows).toEqual([
      { phone_number: PATIENT_E164 },
    ]);
    const replies = await testDb.db.query(
      "SELECT auto_response_intent FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(replies.rows.map((row) => row.auto_response_intent)).toEqual(['opt_out']);
  });
});

describe('the reply budget', () => {
  it('a text deferred from yesterday counts against today and never resets it', async () => {
    // Prepare: today's cap is used up
    const today = new Date().toISOString().slice(0, 10);
    await testDb.db.query(
      `INSERT INTO auto_reply_budget (phone_number, day, replies) VALUES ($1, $2::date, 6)`,
      [PATIENT_E164, today],
    );

    // Act: yesterday's text (deferred during an outage) is written now
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const { recordInboundSms } = await import('../../lib/messages/inbound.js');
    const { decideAutoReply } = await import('../../lib/messages/auto-reply.js');
    const { DEFAULT_PRACTICE_SETTINGS } = await import('../../lib/practice/settings.js');
    const decision = decideAutoReply({
      provider: 'voipms',
      text: 'where are you located?',
      fromNumber: PATIENT_E164,
      toNumber: '+15145550000',
      settings: DEFAULT_PRACTICE_SETTINGS,
      rules: [],
      ownNumbers: [],
      now: new Date(),
    });
    const result = await recordInboundSms.run(
      testDb.db,
      {
        provider: 'voipms',
        providerMessageId: 'deferred-1',
        fromNumber: PATIENT_E164,
        toNumber: '+15145550000',
        body: 'where are you located?',
        numSegments: null,
        numMedia: 0,
        mediaUrls: [],
        decision,
        officeDay: yesterday,
        sentAt: new Date(Date.now() - 86_400_000).toISOString(),
      },
      { replay: true },
    );

    // Assess
    expect(result.stored).toBe(true);
    const budget = await testDb.db.query<{ day: string; replies: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, replies FROM auto_reply_budget`,
    );
    expect(budget.rows).toEqual([{ day: today, replies: 6 }]);
    expect((await testDb.db.query("SELECT 1 FROM sms_messages WHERE direction = 'outbound'")).rows).toEqual(
      [],
    );
  });
});

describe.skipIf(!serverUrl)('a slow statement taken for a dead database (needs real Postgres)', () => {
  let webhookDb: Db;
  let locker: pg.Client;

  beforeAll(() => {
    webhookDb = createPgDb({ connectionString: testDb.url!, max: 4, timeoutMs: 500 });
  });
  afterAll(() => webhookDb.close());
  beforeEach(async () => {
    locker = new pg.Client({ connectionString: testDb.url! });
    await locker.connect();
  });
  afterEach(async () => {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
  });

  /** Holds `sql`'s row locks for `ms` while `act` runs, then lets the held statement finish. */
  async function withLockHeld(sql: string, params: unknown[], ms: number, act: () => Promise<void>) {
    await locker.query('BEGIN');
    await locker.query(sql, params);
    const release = new Promise((resolve) => setTimeout(resolve, ms)).then(() => locker.query('COMMIT'));
    await act();
    await release;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the held statement commits
  }

  it('VoIP.ms: the reply stored by the slow statement is sent exactly once', async () => {
    // Prepare: the sender's budget row exists and another session holds it
    await testDb.db.query(
      `INSERT INTO auto_reply_budget (phone_number, day, replies) VALUES ($1, '2000-01-01', 0)`,
      [PATIENT_E164],
    );
    const params = voipmsSmsParams({ message: 'where are you located?' });

    // Act: the webhook's statement waits on the lock past the client's bound; the event is deferred
    await withLockHeld(
      'SELECT * FROM auto_reply_budget WHERE phone_number = $1 FOR UPDATE',
      [PATIENT_E164],
      1500,
      async () => {
        setDb(webhookDb);
        expect((await invoke(voipmsSmsIncoming, voipmsEvent(params))).body).toBe('ok');
        setDb(testDb.db);
      },
    );
    const replayed = await drainTo('ingest', ingestWorker);
    await drainTo('outboundSms', outboundWorker);
    await relayAndSend();

    // Assess
    expect(replayed).toBe(1);
    expect(voipms.sent).toHaveLength(1);
    const rows = await testDb.db.query("SELECT status FROM sms_messages WHERE direction = 'outbound'");
    expect(rows.rows).toEqual([{ status: 'sent' }]);
  });

  it('Twilio: the reply stored for a TwiML answer that never came back is sent exactly once', async () => {
    await testDb.db.query(
      `INSERT INTO auto_reply_budget (phone_number, day, replies) VALUES ($1, '2000-01-01', 0)`,
      [TWILIO_PATIENT],
    );
    let body = '';
    await withLockHeld(
      'SELECT * FROM auto_reply_budget WHERE phone_number = $1 FOR UPDATE',
      [TWILIO_PATIENT],
      1500,
      async () => {
        setDb(webhookDb);
        body = (
          await invoke(
            twilioSmsIncoming,
            twilioSmsIncomingEvent({ From: TWILIO_PATIENT, Body: 'what are your hours?' }),
          )
        ).body;
        setDb(testDb.db);
      },
    );
    await drainTo('ingest', ingestWorker);
    await drainTo('outboundSms', outboundWorker);
    await relayAndSend();

    expect(body).not.toContain('<Message');
    expect(twilio.messages).toHaveLength(1);
    const rows = await testDb.db.query("SELECT status FROM sms_messages WHERE direction = 'outbound'");
    expect(rows.rows).toEqual([{ status: 'sent' }]);
  });

  it('Twilio recording: the archive job of a slow statement is handed on exactly once', async () => {
    // Prepare: the recording row exists ('in-progress') and another session holds it
    useConfig({ TWILIO_API_BASE_URL: 'https://api.twilio.com' }); // where the recording URLs point
    const event = twilioRecordingStatusEvent({ RecordingStatus: 'in-progress' });
    await invoke(twilioRecordingStatus, event);
    const params = new URLSearchParams(Buffer.from(event.body!, 'base64').toString());
    const completed = twilioRecordingStatusEvent({
      RecordingSid: params.get('RecordingSid')!,
      CallSid: params.get('CallSid')!,
      RecordingUrl: params.get('RecordingUrl')!,
    });
    localQueues.reset();

    // Act
    await withLockHeld('SELECT * FROM recordings FOR UPDATE', [], 1500, async () => {
      setDb(webhookDb);
      await invoke(twilioRecordingStatus, completed);
      setDb(testDb.db);
    });
    await drainTo('ingest', ingestWorker);
    const handedOnAtOnce = localQueues.drain('recordings');
    await relayFollowUps(testDb.db, { settleMs: 0 });
    const handedOnByRelay = localQueues.drain('recordings');

    // Assess: nothing handed on by the webhook or the replay, exactly one job from the relay
    expect(handedOnAtOnce).toEqual([]);
    expect(handedOnByRelay).toEqual([
      expect.objectContaining({ provider: 'twilio', providerRecordingId: params.get('RecordingSid') }),
    ]);
  });
});
