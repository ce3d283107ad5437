import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/twilio-sms-incoming.js';
import { clearAutoReplyRulesCache } from '../../../lib/autoreply/rules-store.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { parseXml, twilioSmsIncomingEvent } from '../../support/twilio.js';

// The daily reply budget, set up directly so each rule is checked at its edge: six replies a day per number
// (the loop guard), counted per office day, and a new day starts the count again.
const testDb = useTestDb();
const PATIENT = '+14155550142';
const TODAY = `(now() AT TIME ZONE 'America/New_York')::date`;

async function ask(): Promise<string | null> {
  const response = await invoke(
    handler,
    twilioSmsIncomingEvent({ Body: 'what time do you open?', From: PATIENT }),
  );
  expect(response.statusCode).toBe(200);
  return parseXml(response.body).children.find((child) => child.name === 'Message')?.text ?? null;
}
const spent = (replies: number, day: string) =>
  testDb.db.query(`INSERT INTO auto_reply_budget (phone_number, day, replies) VALUES ($1, ${day}, $2)`, [
    PATIENT,
    replies,
  ]);
const budget = async () =>
  (
    await testDb.db.query<{ replies: number; today: boolean }>(
      `SELECT replies, day = ${TODAY} AS today FROM auto_reply_budget WHERE phone_number = $1`,
      [PATIENT],
    )
  ).rows;

describe('daily auto-reply budget', () => {
  beforeEach(async () => {
    useConfig();
    await testDb.db.query(
      `UPDATE voip_settings SET timezone = 'America/New_York', auto_reply_enabled = true`,
    );
    clearPracticeSettingsCache();
    clearAutoReplyRulesCache();
  });

  it('the sixth reply of the day still goes, and is counted', async () => {
    await spent(5, TODAY);
    expect(await ask()).toMatch(/\S/);
    expect(await budget()).toEqual([{ replies: 6, today: true }]);
  });

  it('after six replies today, none', async () => {
    await spent(6, TODAY);
    expect(await ask()).toBeNull();
    expect(await budget()).toEqual([{ replies: 6, today: true }]);
  });

  it('six replies yesterday do not count today: the count starts again at one', async () => {
    await spent(6, `${TODAY} - 1`);
    expect(await ask()).toMatch(/\S/);
    expect(await budget()).toEqual([{ replies: 1, today: true }]);
  });

  it('a budget already on a later day (a text deferred from yesterday) is never moved back', async () => {
    await spent(2, `${TODAY} + 1`);
    await ask();
    expect(
      await testDb.db.query(`SELECT day > ${TODAY} AS later FROM auto_reply_budget`).then((r) => r.rows),
    ).toEqual([{ later: true }]);
  });
});
