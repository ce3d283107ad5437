import { readFileSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as outboundWorker } from '../../../functions/outbound-sms-worker.js';
import { handler as twilioSmsIncoming } from '../../../functions/twilio-sms-incoming.js';
import { alertForEvent, escalateDueAlerts } from '../../../lib/alerts/index.js';
import { subscribeAlertsLocally, unsubscribeAlertsLocally } from '../../../lib/alerts/local.js';
import { getConfig } from '../../../lib/config.js';
import { EVENT_TYPES, localEventBus, publishEvents, toDomainEvent } from '../../../lib/events/index.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { type FakeTwilioApi, startFakeTwilioApi } from '../../fakes/twilio-api.js';
import {
  PRACTICE_TWILIO_NUMBER,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  useConfig,
} from '../../support/config.js';
import { serverUrl, useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { eventsSettled } from '../../support/publishing.js';
import { twilioSmsIncomingEvent, twilioSmsIncomingParams } from '../../support/twilio.js';
import {
  alertRows,
  BACKUP,
  EMERGENCY_LINE,
  EMERGENCY_WORDS,
  eventsOf,
  ON_CALL,
  PATIENT,
  seedOnCall,
} from './factories.js';

/** Issue 15: staff alerts with escalation, from the events the webhooks record. */

const testDb = useTestDb();
let twilio: FakeTwilioApi;

beforeAll(async () => {
  twilio = await startFakeTwilioApi({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN });
});
afterAll(async () => twilio.close());
beforeEach(async () => {
  useConfig({ TWILIO_API_BASE_URL: twilio.url });
  localQueues.reset();
  clearPracticeSettingsCache();
  twilio.reset();
  subscribeAlertsLocally(testDb.db, await getConfig());
});
afterEach(() => unsubscribeAlertsLocally());

const asSqs = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) }) as never),
});

/** What the relay and the outbound worker do: publish waiting events (the subscriber alerts), send the texts. */
async function relayAndSend() {
  await eventsSettled(testDb.db);
  await publishEvents(testDb.db, localEventBus);
  const jobs = localQueues.drain('outboundSms');
  if (jobs.length) await outboundWorker(asSqs(jobs));
}

const textFrom = (from: string, body: string, sid?: string) =>
  twilioSmsIncomingEvent({ From: from, Body: body, ...(sid ? { MessageSid: sid } : {}) });

describe('an emergency text', () => {
  it.skipIf(!serverUrl)(
    'delivered 20 times at once gives one patient.emergency event and one alert',
    async () => {
      // Prepare
      await seedOnCall(testDb.db);
      const params = twilioSmsIncomingParams({ From: PATIENT, Body: EMERGENCY_WORDS });
      const event = twilioSmsIncomingEvent(params);

      // Act: twenty concurrent deliveries, then the relay twice (as overlapping runs may) and a bus redelivery
      await Promise.all(Array.from({ length: 20 }, () => invoke(twilioSmsIncoming, structuredClone(event))));
      await relayAndSend();
      await relayAndSend();
      const [stored] = (await testDb.db.query('SELECT * FROM events WHERE type = $1', ['patient.emergency']))
        .rows;
      await alertForEvent(testDb.db, toDomainEvent(stored as never), { escalationSeconds: 600 });

      // Assess
      expect(await eventsOf(testDb.db, 'patient.emergency')).toHaveLength(1);
      expect(await eventsOf(testDb.db, 'sms.received')).toHaveLength(1);
      const alerts = await alertRows(testDb.db);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ recipient_number: ON_CALL, position: 1, status: 'sent' });
      expect(twilio.messages.filter((m) => m.to === ON_CALL)).toHaveLength(1);
      expect(twilio.messages.find((m) => m.to === ON_CALL)?.from).toBe(PRACTICE_TWILIO_NUMBER);
    },
  );

  it('alerts the on-call number without the patient’s words, unless the practice turns them on', async () => {
    // Prepare
    await seedOnCall(testDb.db);

    // Act: standard detail, then full detail
    await invoke(twilioSmsIncoming, textFrom(PATIENT, EMERGENCY_WORDS));
    await relayAndSend();
    await testDb.db.query(`UPDATE voip_settings SET alert_detail = 'full', events_include_text = true`);
    clearPracticeSettingsCache(); // a container reads settings again within a minute
    await invoke(twilioSmsIncoming, textFrom('+14155550124', `${EMERGENCY_WORDS} again`));
    await relayAndSend();

    // Assess
    const [standard, full] = twilio.messages.filter((m) => m.to === ON_CALL);
    expect(standard?.body).toContain(PATIENT);
    expect(standard?.body).toContain('Reply OK');
    expect(standard?.body).not.toContain('knocked');
    expect(full?.body).toContain(`"${EMERGENCY_WORDS} again"`);
    const received = await eventsOf(testDb.db, 'sms.received');
    expect(received[0]?.detail).not.toHaveProperty('text');
    expect(received[1]?.detail).toMatchObject({ text: `${EMERGENCY_WORDS} again` });
    expect(JSON.stringify((await eventsOf(testDb.db, 'patient.emergency'))[0])).not.toContain('knocked');
  });
});

describe('escalation', () => {
  async function emergencyAlerted() {
    await seedOnCall(testDb.db);
    await invoke(twilioSmsIncoming, textFrom(PATIENT, EMERGENCY_WORDS));
    await relayAndSend();
  }
  const expireWait = () =>
    testDb.db.query(
      "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE escalate_at IS NOT NULL",
    );

  it('an unacknowledged emergency escalates once to the next number, then to the emergency line', async () => {
    // Prepare
    await emergencyAlerted();
    await expireWait();

    // Act: two relays at once, then again
    await Promise.all([escalateDueAlerts(testDb.db, 600), escalateDueAlerts(testDb.db, 600)]);
    await escalateDueAlerts(testDb.db, 600);
    await relayAndSend();
    const afterFirst = await alertRows(testDb.db);
    await expireWait();
    await escalateDueAlerts(testDb.db, 600);
    await expireWait();
    await escalateDueAlerts(testDb.db, 600);
    await relayAndSend();

    // Assess
    expect(afterFirst.map((a) => [a.recipient_number, a.status])).toEqual([
      [ON_CALL, 'escalated'],
      [BACKUP, 'sent'],
    ]);
    const alerts = await alertRows(testDb.db);
    expect(alerts.map((a) => [a.recipient_number, a.position])).toEqual([
      [ON_CALL, 1],
      [BACKUP, 2],
      [EMERGENCY_LINE, 0],
    ]);
    expect(alerts[2]?.escalate_at).toBeNull();
    expect(twilio.messages.filter((m) => m.to === BACKUP)).toHaveLength(1);
    expect(twilio.messages.find((m) => m.to === BACKUP)?.body).toMatch(/^ESCALATED, no OK from 0101: URGENT/);
    expect(await eventsOf(testDb.db, 'alert.escalated')).toHaveLength(2);
  });

  it('OK from the on-call number acknowledges and stops it, and gets no auto-reply', async () => {
    // Prepare
    await emergencyAlerted();

    // Act
    const answer = await invoke(twilioSmsIncoming, textFrom(ON_CALL, 'ok.'));
    await expireWait();
    const escalation = await escalateDueAlerts(testDb.db, 600);

    // Assess
    expect(answer.body).not.toContain('<Message');
    expect(escalation.escalated).toBe(0);
    expect((await alertRows(testDb.db)).map((a) => a.status)).toEqual(['acknowledged']);
    const [ack] = await eventsOf(testDb.db, 'alert.acknowledged');
    expect(ack?.detail).toMatchObject({ event_type: 'patient.emergency', recipient: ON_CALL });
    const staff = await testDb.db.query(`SELECT kind FROM sms_messages WHERE from_number = $1`, [ON_CALL]);
    expect(staff.rows).toEqual([{ kind: 'staff' }]);
  });
});

describe('texts from an on-call number', () => {
  it('get no auto-reply, change no opt-out and record no patient event', async () => {
    // Prepare
    await seedOnCall(testDb.db);

    // Act
    const hours = await invoke(twilioSmsIncoming, textFrom(ON_CALL, 'what are your hours?'));
    const stop = await invoke(twilioSmsIncoming, textFrom(ON_CALL, 'STOP'));

    // Assess
    expect(hours.body).not.toContain('<Message');
    expect(stop.body).not.toContain('<Message');
    const replies = await testDb.db.query(`SELECT 1 FROM sms_messages WHERE direction = 'outbound'`);
    expect(replies.rows).toEqual([]);
    expect((await testDb.db.query('SELECT 1 FROM opt_outs')).rows).toEqual([]);
    expect((await testDb.db.query('SELECT type FROM events')).rows).toEqual([]);
  });
});

describe('other alerts', () => {
  it('a failed emergency reply alerts always; a staff alert that fails alerts no one', async () => {
    // Prepare: an emergency text answered in TwiML, whose reply row then fails
    await seedOnCall(testDb.db, [ON_CALL]);
    await invoke(twilioSmsIncoming, textFrom(PATIENT, EMERGENCY_WORDS));
    await relayAndSend();

    // Act
    await testDb.db.query(
      `UPDATE sms_messages SET status = 'failed', error_code = '30006' WHERE kind = 'auto-reply'`,
    );
    await testDb.db.query(`UPDATE sms_messages SET status = 'undelivered' WHERE kind = 'staff-alert'`);
    await relayAndSend();

    // Assess
    const failed = await eventsOf(testDb.db, 'message.delivery_failed');
    expect(failed.map((e) => e.detail.kind).sort()).toEqual(['auto-reply', 'staff-alert']);
    const alerts = await alertRows(testDb.db);
    expect(alerts.map((a) => [a.event_type, a.status])).toEqual([
      ['patient.emergency', 'failed'],
      ['message.delivery_failed', 'sent'],
    ]);
    expect(alerts[1]?.body).toContain('emergency reply');
    expect(alerts[1]?.body).toContain('30006');
  });

  it('non-emergencies respect the per-hour cap and the recipient’s choice of events', async () => {
    // Prepare: voicemail-only default; this recipient wants missed calls, cap 2
    await seedOnCall(testDb.db, [ON_CALL]);
    await testDb.db.query(`UPDATE alert_recipients SET events = '{sms.received}'`);
    await testDb.db.query('UPDATE voip_settings SET alert_hourly_cap = 2');

    // Act
    for (let i = 0; i < 3; i++) await invoke(twilioSmsIncoming, textFrom(`+1415555020${i}`, 'hello there'));
    await relayAndSend();

    // Assess
    const alerts = await alertRows(testDb.db);
    expect(alerts.map((a) => a.status)).toEqual(['sent', 'sent', 'failed']);
    expect(twilio.messages.filter((m) => m.to === ON_CALL)).toHaveLength(2);
  });
});

describe('every event type', () => {
  it('matches its JSON Schema in schemas/events/', async () => {
    // Prepare: one of each, through the real statements
    await seedOnCall(testDb.db);
    await invoke(twilioSmsIncoming, textFrom(PATIENT, EMERGENCY_WORDS));
    await relayAndSend();
    await testDb.db.query(
      `UPDATE sms_messages SET status = 'failed', error_code = '30006' WHERE kind = 'auto-reply'`,
    );
    await testDb.db.query(
      `UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE escalate_at IS NOT NULL`,
    );
    await escalateDueAlerts(testDb.db, 600);
    await invoke(twilioSmsIncoming, textFrom(BACKUP, 'OK'));
    await invoke(
      twilioSmsIncoming,
      twilioSmsIncomingEvent({ From: '+14155550777', Body: 'STOP', OptOutType: 'STOP' }),
    );
    await invoke(
      twilioSmsIncoming,
      twilioSmsIncomingEvent({ From: '+14155550777', Body: 'START', OptOutType: 'START' }),
    );
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
       VALUES ('twilio', 'CA1', 'inbound', $1, $2, 'no-answer')`,
      [PATIENT, PRACTICE_TWILIO_NUMBER],
    );
    await testDb.db.query(`UPDATE voip_settings SET events_include_text = true`);
    await testDb.db.query(
      `WITH r AS (INSERT INTO recordings (provider, provider_recording_id, provider_call_id, status, storage_key,
         size_bytes, content_type) VALUES ('twilio', 'RE1', 'CA1', 'completed', NULL, NULL, NULL) RETURNING id)
       INSERT INTO transcriptions (recording_id, status, text, job_name) SELECT id, 'completed', 'hi [PII]', 'j' FROM r`,
    );
    await testDb.db.query(
      `UPDATE recordings SET status = 'archived', storage_key = 'k', size_bytes = 3, content_type = 'audio/wav'`,
    );
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const formats = await import('ajv-formats');
    const ajv = new Ajv2020({ allErrors: true });
    formats.default.default(ajv);

    // Act
    const { rows } = await testDb.db.query('SELECT * FROM events');
    const events = rows.map((row) => toDomainEvent(row as never));
    const invalid = [];
    for (const event of events) {
      const schema = JSON.parse(
        readFileSync(new URL(`../../../schemas/events/${event.type}.json`, import.meta.url), 'utf8'),
      );
      const validate = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
      if (!validate(JSON.parse(JSON.stringify(event))))
        invalid.push({ type: event.type, errors: validate.errors });
    }

    // Assess
    expect(invalid).toEqual([]);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  });
});
