import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/twilio-sms-incoming.js';
import { clearAutoReplyRulesCache, loadAutoReplyRules } from '../../../lib/autoreply/rules-store.js';
import { DAILY_REPLY_CAP } from '../../../lib/messages/inbound.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { PRACTICE_TWILIO_NUMBER, useConfig } from '../../support/config.js';
import { serverUrl, useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { parseXml, twilioSmsIncomingEvent } from '../../support/twilio.js';

const testDb = useTestDb();
const PATIENT = '+14155550142';

/** Texts the practice's Twilio number and returns the auto-reply in the TwiML, or null. */
async function text(body: string, from = PATIENT): Promise<string | null> {
  const response = await invoke(handler, twilioSmsIncomingEvent({ Body: body, From: from }));
  expect(response.statusCode).toBe(200);
  const message = parseXml(response.body).children.find((child) => child.name === 'Message');
  return message?.text ?? null;
}

const storedInbound = async () =>
  (await testDb.db.query("SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'inbound'")).rows[0];

describe('auto-reply guards', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    clearAutoReplyRulesCache();
  });

  it('answers one intent once per 10 minutes, while other intents still get their answer', async () => {
    expect(await text('what time do you close today?')).toMatch(/\S/);
    expect(await text('are you open on saturday')).toBeNull();
    expect(await text('do you take delta dental?')).toMatch(/insurance|seguro|plan/i);
    // The window is kept in the database, so it holds across containers; once it has passed, hours answer again.
    await testDb.db.query(
      `UPDATE auto_reply_budget SET last_by_intent = jsonb_set(last_by_intent, '{hours}', to_jsonb(now() - interval '11 minutes'))`,
    );
    expect(await text('what are your hours')).toMatch(/\S/);
  });

  it(`stops after ${DAILY_REPLY_CAP} replies to one number in a day (loop guard against other auto-responders)`, async () => {
    const differentIntents = [
      'can i book a cleaning',
      'what time do you open',
      'where are you located',
      'do you take aetna',
      'my tooth hurts so bad',
      'hello there',
      'HELP',
      'ok thanks bye now',
    ];
    const replies = [];
    for (const body of differentIntents) replies.push(await text(body));
    expect(replies.filter((reply) => reply !== null)).toHaveLength(DAILY_REPLY_CAP);
    expect(replies.slice(DAILY_REPLY_CAP)).toEqual([null, null]);
    expect(await storedInbound()).toEqual({ n: differentIntents.length });
  });

  it.each([
    ['a short code', '72345'],
    ['an alphanumeric sender', 'ACMEBANK'],
    ['our own number', PRACTICE_TWILIO_NUMBER],
  ])('never replies to %s, but stores the text', async (_, from) => {
    expect(await text('what time do you open?', from)).toBeNull();
    expect(await storedInbound()).toEqual({ n: 1 });
  });

  it('never replies to an opted-out number, and STOP/START only change the opt-out state (Twilio confirms)', async () => {
    expect(await text('STOP')).toBeNull();
    expect(await text('what time do you open?')).toBeNull();
    expect((await testDb.db.query('SELECT keyword FROM opt_outs')).rows).toEqual([{ keyword: 'STOP' }]);
    expect(await text('START')).toBeNull();
    expect(await text('what time do you open?')).toMatch(/\S/);
  });

  it('answers in Spanish when the patient writes in Spanish', async () => {
    const reply = await text('¿dónde están ubicados?');
    expect(reply).toMatch(/está|oficina|dirección/i);
    expect(reply).not.toMatch(/located|office is/i);
  });
});

describe('rules from auto_responses', () => {
  beforeEach(() => {
    useConfig();
    clearAutoReplyRulesCache();
  });

  it('edits take effect once the cache TTL has passed, not before', async () => {
    const db = testDb.db;
    const start = Date.now();
    const before = await loadAutoReplyRules(db, start);
    await db.query(
      "UPDATE auto_responses SET response_text = 'Parking is behind the building. {practice_name}' WHERE intent = 'location' AND language = 'en'",
    );
    const cached = await loadAutoReplyRules(db, start + 30_000);
    const refreshed = await loadAutoReplyRules(db, start + 61_000);

    expect(cached).toBe(before);
    expect(
      refreshed.find((rule) => rule.intent === 'location' && rule.language === 'en')?.responseText,
    ).toMatch(/^Parking is behind/);
    // The webhook then answers with the edited text.
    expect(await text('where are you located?')).toMatch(/^Parking is behind the building\./);
  });

  it('a refresh that finds the rules unchanged keeps the same array, so the lexicon is not compiled again', async () => {
    const start = Date.now();
    const first = await loadAutoReplyRules(testDb.db, start);
    const refreshed = await loadAutoReplyRules(testDb.db, start + 61_000);
    expect(refreshed).toBe(first);
  });

  it('a new keyword from the database routes a message the built-in vocabulary does not know', async () => {
    await testDb.db.query(
      "UPDATE auto_responses SET keywords = keywords || ARRAY['invisalign'], response_text = 'Ask us about aligners: {office_line}' WHERE intent = 'appointment' AND language = 'en'",
    );
    expect(await text('invisalign')).toMatch(/^Ask us about aligners/);
  });
});

describe.skipIf(!serverUrl)('guards under concurrency (needs real Postgres: TEST_DATABASE_URL)', () => {
  beforeEach(() => {
    useConfig();
    clearAutoReplyRulesCache();
  });

  it('ten different texts of one intent arriving at once get exactly one reply', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => `what time do you close today ${'?'.repeat(i + 1)}`);
    const replies = await Promise.all(bodies.map((body) => text(body)));
    expect(replies.filter((reply) => reply !== null)).toHaveLength(1);
    const outbound = await testDb.db.query(
      "SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(outbound.rows).toEqual([{ n: 1 }]);
  });
});
