import { beforeEach, describe, expect, it, vi } from 'vitest';
import { formatOfficeTime, officeDay, officeStatus } from '../../../lib/practice/hours.js';
import { clearPracticeSettingsCache, loadPracticeSettings } from '../../../lib/practice/settings.js';
import { forgetZoneOffsets } from '../../../lib/practice/zone.js';
import { useTestDb } from '../../support/db.js';
import { watchIntlFormatters } from '../../support/intl.js';

const testDb = useTestDb();

describe('loadPracticeSettings', () => {
  beforeEach(async () => {
    clearPracticeSettingsCache();
    await testDb.db.query(`DELETE FROM voip_settings WHERE phone_number <> '*'`);
    await testDb.db.query(
      `UPDATE voip_settings SET practice_name = 'Default Dental' WHERE phone_number = '*'`,
    );
  });

  it('uses the row for the number, else the default row', async () => {
    await testDb.db.query(
      `INSERT INTO voip_settings (provider, phone_number, practice_name, office_line, weekly_hours)
       VALUES ('twilio', '+15005550006', 'North Clinic', '+15085550100', '{"mon":[["09:00","12:00"]]}')`,
    );
    const own = await loadPracticeSettings(testDb.db, 'twilio', '+15005550006');
    const other = await loadPracticeSettings(testDb.db, 'twilio', '+15005550007');
    const otherProvider = await loadPracticeSettings(testDb.db, 'voipms', '+15005550006');
    expect(own).toMatchObject({
      practiceName: 'North Clinic',
      officeLine: '+15085550100',
      weeklyHours: { mon: [['09:00', '12:00']] },
    });
    expect(other.practiceName).toBe('Default Dental');
    expect(otherProvider.practiceName).toBe('Default Dental');
  });

  it('caches for about a minute per container', async () => {
    const t0 = 1_000_000;
    await loadPracticeSettings(testDb.db, 'twilio', '+15005550006', t0);
    await testDb.db.query(`UPDATE voip_settings SET practice_name = 'Renamed' WHERE phone_number = '*'`);
    expect((await loadPracticeSettings(testDb.db, 'twilio', '+15005550006', t0 + 30_000)).practiceName).toBe(
      'Default Dental',
    );
    expect((await loadPracticeSettings(testDb.db, 'twilio', '+15005550006', t0 + 61_000)).practiceName).toBe(
      'Renamed',
    );
  });

  it("brings its zone's offsets for the coming days: office hours and reply times then start no Intl", async () => {
    // Prepare: a number in Denver, on a cold container (nothing remembered, no formatter made yet)
    forgetZoneOffsets();
    await testDb.db.query(
      `INSERT INTO voip_settings (provider, phone_number, practice_name, timezone)
       VALUES ('twilio', '+15005550006', 'Mountain Clinic', 'America/Denver')`,
    );
    const now = Date.now();
    const settings = await loadPracticeSettings(testDb.db, 'twilio', '+15005550006', now);
    const intl = watchIntlFormatters();
    // Act: what an inbound text works out, for now and for a text deferred from yesterday
    const status = officeStatus(settings, new Date(now));
    const shown = formatOfficeTime(settings, status.nextOpenAt ?? status.closesAt ?? new Date(now), 'es');
    const yesterday = officeDay(settings.timezone, new Date(now - 86_400_000));
    const formattersMade = intl.mock.calls.length;
    vi.restoreAllMocks();
    // Assess: no formatter, and the answers Intl gives once the remembered offsets are gone
    expect(formattersMade).toBe(0);
    forgetZoneOffsets();
    const fromIntl = officeStatus({ ...settings }, new Date(now));
    expect(status).toEqual(fromIntl);
    expect(shown).toBe(
      formatOfficeTime(
        { timezone: 'America/Denver' },
        fromIntl.nextOpenAt ?? fromIntl.closesAt ?? new Date(now),
        'es',
      ),
    );
    expect(yesterday).toBe(officeDay('America/Denver', new Date(now - 86_400_000)));
  });
});
