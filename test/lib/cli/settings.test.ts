import { describe, expect, it } from 'vitest';
import {
  addOnCall,
  applySettings,
  listOnCall,
  parseHours,
  parseSettingPairs,
  SettingsError,
  showSettings,
} from '../../../lib/cli/settings.js';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();

const problems = (work: () => unknown): string[] => {
  try {
    work();
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  return [];
};

describe('settings values are checked before anything is written', () => {
  it('names every bad value at once', () => {
    expect(
      problems(() =>
        parseSettingPairs([
          'timezone=Mars/Olympus',
          'emergency_line=555-1234',
          'hours=mon-fri 9-5',
          'holidays=2026-02-30',
          'colour=blue',
        ]),
      ),
    ).toEqual([
      'timezone "Mars/Olympus" is not an IANA time zone (e.g. America/Toronto)',
      'emergency_line must be an E.164 number like +15551234567, got "555-1234"',
      'hours: mon "9-5" is not a range like 08:00-17:00 (24-hour clock)',
      'holidays: "2026-02-30" is not a date like 2026-12-25',
      expect.stringMatching(/^unknown setting "colour"/),
    ]);
  });

  it('reads weekly hours in a form people write', () => {
    expect(parseHours('mon-thu 08:00-12:00,13:00-17:00; fri 08:00-15:00; sat closed')).toEqual({
      mon: [
        ['08:00', '12:00'],
        ['13:00', '17:00'],
      ],
      tue: [
        ['08:00', '12:00'],
        ['13:00', '17:00'],
      ],
      wed: [
        ['08:00', '12:00'],
        ['13:00', '17:00'],
      ],
      thu: [
        ['08:00', '12:00'],
        ['13:00', '17:00'],
      ],
      fri: [['08:00', '15:00']],
      sat: [],
      sun: [],
    });
    expect(problems(() => parseHours('mon 17:00-08:00'))).toEqual([
      'hours: mon "17:00-08:00" closes before it opens',
    ]);
  });

  it('changes a number’s own row (made from the defaults) and leaves the default row alone', async () => {
    // Act
    await applySettings(testDb.db, { provider: 'twilio', number: '+15005550006' }, [
      'name=Bright Smiles',
      'timezone=America/Toronto',
      'alert_quiet_hours=22:00-07:00',
    ]);
    const bad = await applySettings(testDb.db, { provider: 'twilio', number: '+15005550006' }, [
      'name=Other',
      'alert_hourly_cap=0',
    ]).catch((error: SettingsError) => error.problems);

    // Assess
    expect(bad).toEqual(['alert_hourly_cap is a whole number from 1 to 1000, got "0"']);
    const own = await showSettings(testDb.db, { provider: 'twilio', number: '+15005550006' });
    expect(own).toContain('name: Bright Smiles');
    expect(own).toContain('alert_quiet_hours: 22:00-07:00');
    expect(await showSettings(testDb.db, { provider: 'any', number: '*' })).toContain('name: our office');
  });

  it('keeps the on-call list in order; a new first moves the others down', async () => {
    await addOnCall(testDb.db, { practiceNumber: '+15005550006', phoneNumber: '+15125550101' });
    await addOnCall(testDb.db, { practiceNumber: '+15005550006', phoneNumber: '+15125550102', position: 1 });
    const refused = await addOnCall(testDb.db, {
      practiceNumber: '+15005550006',
      phoneNumber: '+15125550103',
      events: 'voicemail.recieved',
    }).catch((error: SettingsError) => error.problems[0]);

    expect((await listOnCall(testDb.db, '+15005550006')).map((r) => [r.position, r.phone_number])).toEqual([
      [1, '+15125550102'],
      [2, '+15125550101'],
    ]);
    expect(refused).toMatch(/^--events: unknown event type voicemail.recieved/);
  });
});
