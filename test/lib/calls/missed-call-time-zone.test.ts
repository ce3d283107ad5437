import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type CallStatusEvent, recordCallStatus } from '../../../lib/calls/index.js';
import { logger } from '../../../lib/observability.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

// A practice whose time zone cannot be read (a typo in voip_settings) must still text the callers it missed:
// the office day falls back to UTC, and quiet hours are not assumed.
const testDb = useTestDb();
const CALLER = '+14155550123';
const PRACTICE = '+15085550100';
let counter = 0;

const missedCall = (overrides: Partial<CallStatusEvent> = {}): CallStatusEvent => ({
  provider: 'twilio',
  providerCallId: `CA${String(++counter).padStart(32, '0')}`,
  direction: 'inbound',
  fromNumber: CALLER,
  toNumber: PRACTICE,
  callerName: null,
  status: 'no-answer',
  sequence: 3,
  durationSeconds: 0,
  cost: null,
  currency: null,
  startedAt: null,
  endedAt: null,
  answeredBy: null,
  // 02:00 UTC on 14 March 2026: 22:00 on the 13th in New York (quiet hours there), a new day in UTC.
  receivedAt: '2026-03-14T02:00:00.000Z',
  ...overrides,
});

const setZone = async (zone: string) => {
  await testDb.db.query(
    `UPDATE voip_settings SET practice_name = 'Smile Dental', missed_call_text_back = true, timezone = $1
     WHERE phone_number = '*'`,
    [zone],
  );
  clearPracticeSettingsCache();
};

const stored = async () =>
  (
    await testDb.db.query<{ to_number: string; status: string }>(
      `SELECT to_number, status FROM sms_messages WHERE kind = 'missed-call'`,
    )
  ).rows;
const guardDays = async () =>
  (await testDb.db.query<{ day: string }>(`SELECT day::text AS day FROM outbound_guards`)).rows.map(
    (r) => r.day,
  );

describe('missed-call text with an unreadable office time zone', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
  });

  it('is still stored and handed on, claimed for the UTC day', async () => {
    // Prepare
    await setZone('Mars/Olympus_Mons');
    const warn = vi.spyOn(logger, 'warn');

    // Act
    const result = await recordCallStatus.run(testDb.db, missedCall());

    // Assess
    expect(result).toEqual({ textBackQueued: true });
    expect(await stored()).toEqual([{ to_number: CALLER, status: 'pending' }]);
    expect(await guardDays()).toEqual(['2026-03-14']);
    expect(localQueues.messages('outboundSms')).toHaveLength(1);
    // The operator is told which setting to fix.
    expect(warn).toHaveBeenCalledWith('office time zone unreadable; missed-call text judged in UTC', {
      zone: 'Mars/Olympus_Mons',
    });
    warn.mockRestore();
  });

  it('the same call with a readable zone is held back by quiet hours (the contrast that makes the test count)', async () => {
    // Prepare
    await setZone('America/New_York');

    // Act
    const result = await recordCallStatus.run(testDb.db, missedCall());

    // Assess
    expect(result).toEqual({ textBackQueued: false });
    expect(await stored()).toEqual([]);
  });

  it('claims the office day in the readable zone, not in UTC', async () => {
    // Prepare: 23:30 UTC on the 14th is 08:30 on the 15th in Tokyo (after quiet hours end at 08:00).
    await setZone('Asia/Tokyo');

    // Act
    await recordCallStatus.run(testDb.db, missedCall({ receivedAt: '2026-03-14T23:30:00.000Z' }));

    // Assess
    expect(await guardDays()).toEqual(['2026-03-15']);
  });
});
