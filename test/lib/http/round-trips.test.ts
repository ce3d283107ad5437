import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as smsIncoming } from '../../../functions/twilio-sms-incoming.js';
import { handler as smsStatus } from '../../../functions/twilio-sms-status.js';
import { type Db, setDb } from '../../../lib/db/index.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { twilioSmsIncomingEvent, twilioSmsStatusEvent } from '../../support/twilio.js';

const testDb = useTestDb();

/** Lets a test make the TwiML answer fail after the statement has stored the text (and its log row). */
const twimlFailure = vi.hoisted(() => ({ on: false }));
vi.mock('../../../lib/twilio/twiml.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../lib/twilio/twiml.js')>();
  return {
    ...actual,
    messagingTwiml: (...args: Parameters<typeof actual.messagingTwiml>) => {
      if (twimlFailure.on) throw new Error('TwiML writer failed');
      return actual.messagingTwiml(...args);
    },
  };
});

/** The test database, counting the statements sent to it. */
function counting(db: Db) {
  const sent: string[] = [];
  const wrapped: Db = {
    kind: db.kind,
    query: (text, params) => {
      sent.push(text);
      return db.query(text, params);
    },
    transaction: (work) => db.transaction(work),
    session: (work) => db.session(work),
    close: () => db.close(),
  };
  return { wrapped, sent };
}

describe('Postgres round trips per webhook', () => {
  let sent: string[];
  beforeEach(async () => {
    useConfig();
    localQueues.reset();
    // Warm the per-container caches (practice settings, auto-reply rules), as a running Lambda has them.
    setDb(testDb.db);
    await invoke(smsIncoming, twilioSmsIncomingEvent({ Body: 'warm up', From: '+14155550999' }));
    const count = counting(testDb.db);
    sent = count.sent;
    setDb(count.wrapped);
  });

  it('a status callback costs one statement, log row included', async () => {
    expect((await invoke(smsStatus, twilioSmsStatusEvent())).statusCode).toBe(204);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/write_webhook_log\(/);
    const logs = await testDb.db.query(
      "SELECT status_code FROM webhook_logs WHERE endpoint = '/webhooks/twilio/sms/status'",
    );
    expect(logs.rows).toEqual([{ status_code: 204 }]);
  });

  it('an inbound text with its auto-reply costs one statement, log row included', async () => {
    const response = await invoke(smsIncoming, twilioSmsIncomingEvent({ Body: 'what time do you open?' }));
    expect(response.body).toMatch(/<Message[ >]/);
    expect(sent).toHaveLength(1);
    const stored = await testDb.db.query(
      "SELECT count(*)::int AS n FROM webhook_logs WHERE endpoint = '/webhooks/twilio/sms/incoming' AND status_code = 200",
    );
    expect(stored.rows).toEqual([{ n: 2 }]);
  });

  it('a refused request costs one statement: its log row', async () => {
    const event = twilioSmsStatusEvent();
    event.headers['x-twilio-signature'] = 'forged';
    expect((await invoke(smsStatus, event)).statusCode).toBe(403);
    expect(sent).toHaveLength(1);
  });

  it('corrects the row written ahead when the answer turns out different', async () => {
    // The text and its log row are stored, then building the answer fails: Twilio gets a 503.
    twimlFailure.on = true;
    try {
      const response = await invoke(smsIncoming, twilioSmsIncomingEvent({ Body: 'what time do you open?' }));
      expect(response.statusCode).toBe(503);
    } finally {
      twimlFailure.on = false;
    }
    const logs = await testDb.db.query(
      "SELECT status_code, error FROM webhook_logs WHERE endpoint = '/webhooks/twilio/sms/incoming'",
    );
    expect(logs.rows).toContainEqual({ status_code: 503, error: 'TwiML writer failed' });
    expect(sent.at(-1)).toMatch(/^UPDATE webhook_logs/);
  });
});
