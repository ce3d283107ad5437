import { beforeEach, describe, expect, it } from 'vitest';
import { clearPracticeSettingsCache, loadPracticeSettings } from '../../../lib/practice/settings.js';
import { useTestDb } from '../../support/db.js';

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
});
