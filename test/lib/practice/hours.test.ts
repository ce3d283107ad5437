import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatOfficeTime,
  isQuietHours,
  OfficeSettingsError,
  officeStatus,
} from '../../../lib/practice/hours.js';
import { officeSettings } from '../autoreply/factories.js';

const everyDay = (from: string, to: string) => ({
  mon: [[from, to]] as [string, string][],
  tue: [[from, to]] as [string, string][],
  wed: [[from, to]] as [string, string][],
  thu: [[from, to]] as [string, string][],
  fri: [[from, to]] as [string, string][],
  sat: [[from, to]] as [string, string][],
  sun: [[from, to]] as [string, string][],
});

describe('officeStatus', () => {
  it('is open during weekday hours and says when it closes', () => {
    // Prepare: Tuesday 2025-06-10 10:00 EDT
    const settings = officeSettings();
    // Act
    const status = officeStatus(settings, new Date('2025-06-10T14:00:00Z'));
    // Assess
    expect(status).toEqual({
      open: true,
      closesAt: new Date('2025-06-10T21:00:00Z'),
      nextOpenAt: new Date('2025-06-11T12:00:00Z'),
      isHoliday: false,
    });
  });

  it('is closed in the evening and opens next morning', () => {
    // Act: Tuesday 18:30 EDT
    const status = officeStatus(officeSettings(), new Date('2025-06-10T22:30:00Z'));
    // Assess
    expect(status.open).toBe(false);
    expect(status.closesAt).toBeNull();
    expect(status.nextOpenAt).toEqual(new Date('2025-06-11T12:00:00Z'));
  });

  it('finds Monday 08:00 EDT across the spring-forward weekend', () => {
    // Prepare: Saturday 2025-03-08 14:00 EST, after Saturday hours; clocks go forward Sunday 2025-03-09
    const settings = officeSettings();
    // Act
    const status = officeStatus(settings, new Date('2025-03-08T19:00:00Z'));
    // Assess: 08:00 EDT is 12:00Z (it would be 13:00Z in EST)
    expect(status.open).toBe(false);
    expect(status.nextOpenAt).toEqual(new Date('2025-03-10T12:00:00Z'));
  });

  it('finds Monday 08:00 EST across the fall-back weekend', () => {
    // Prepare: Saturday 2025-11-01 14:00 EDT; clocks go back Sunday 2025-11-02
    // Act
    const status = officeStatus(officeSettings(), new Date('2025-11-01T18:00:00Z'));
    // Assess: 08:00 EST is 13:00Z
    expect(status.nextOpenAt).toEqual(new Date('2025-11-03T13:00:00Z'));
  });

  it('keeps local hours on the 23-hour spring-forward day itself', () => {
    // Prepare: open every day 08:00-17:00; Sunday 2025-03-09 08:30 EDT
    const settings = officeSettings({ weeklyHours: everyDay('08:00', '17:00') });
    // Act
    const before = officeStatus(settings, new Date('2025-03-09T11:59:00Z')); // 07:59 EDT
    const during = officeStatus(settings, new Date('2025-03-09T12:30:00Z')); // 08:30 EDT
    // Assess
    expect(before.open).toBe(false);
    expect(before.nextOpenAt).toEqual(new Date('2025-03-09T12:00:00Z'));
    expect(during.open).toBe(true);
    expect(during.closesAt).toEqual(new Date('2025-03-09T21:00:00Z'));
  });

  it('keeps local hours on the 25-hour fall-back day itself', () => {
    // Prepare: Sunday 2025-11-02, 07:30 EST
    const settings = officeSettings({ weeklyHours: everyDay('08:00', '17:00') });
    // Act
    const status = officeStatus(settings, new Date('2025-11-02T12:30:00Z'));
    // Assess: still closed (07:30 EST), opens 08:00 EST = 13:00Z, closes 17:00 EST = 22:00Z
    expect(status.open).toBe(false);
    expect(status.nextOpenAt).toEqual(new Date('2025-11-02T13:00:00Z'));
    expect(officeStatus(settings, new Date('2025-11-02T21:59:00Z')).closesAt).toEqual(
      new Date('2025-11-02T22:00:00Z'),
    );
  });

  it('treats an hour that does not exist (02:30 on spring-forward day) as the same time after the change', () => {
    // Prepare
    const settings = officeSettings({ weeklyHours: everyDay('02:30', '04:00') });
    // Act: Sunday 2025-03-09 01:00 EST
    const status = officeStatus(settings, new Date('2025-03-09T06:00:00Z'));
    // Assess: opens at 03:30 EDT = 07:30Z
    expect(status.nextOpenAt).toEqual(new Date('2025-03-09T07:30:00Z'));
  });

  it('stays closed on a holiday and opens the next working day', () => {
    // Prepare: Christmas 2025 is a Thursday
    const settings = officeSettings({ holidays: [{ date: '2025-12-25', name: 'Christmas' }] });
    // Act: 10:00 EST on Christmas
    const status = officeStatus(settings, new Date('2025-12-25T15:00:00Z'));
    // Assess
    expect(status).toEqual({
      open: false,
      closesAt: null,
      nextOpenAt: new Date('2025-12-26T13:00:00Z'),
      isHoliday: true,
    });
  });

  it('reads holidays stored as bare dates, as voip_settings may hold them', () => {
    // Prepare: Thursday 2025-12-25 10:00 EST, stored as a plain string beside an object
    const settings = officeSettings({ holidays: ['2025-12-25', { date: '2026-01-01' }, 42, null] });
    // Act
    const status = officeStatus(settings, new Date('2025-12-25T15:00:00Z'));
    // Assess
    expect(status.open).toBe(false);
    expect(status.isHoliday).toBe(true);
  });

  it('skips a holiday when looking for the next opening', () => {
    // Prepare: Friday 2025-07-04 is a holiday; ask on Thursday evening
    const settings = officeSettings({ holidays: [{ date: '2025-07-04' }] });
    // Act
    const status = officeStatus(settings, new Date('2025-07-03T23:00:00Z'));
    // Assess: Saturday 09:00 EDT
    expect(status.nextOpenAt).toEqual(new Date('2025-07-05T13:00:00Z'));
  });

  it('handles split days and intervals past midnight', () => {
    // Prepare
    const split = officeSettings({
      weeklyHours: {
        ...everyDay('08:00', '12:00'),
        tue: [
          ['08:00', '12:00'],
          ['13:00', '17:00'],
        ],
      },
    });
    const night = officeSettings({
      weeklyHours: { ...everyDay('08:00', '17:00'), fri: [['18:00', '02:00']] },
    });
    // Act
    const lunch = officeStatus(split, new Date('2025-06-10T16:30:00Z')); // Tue 12:30 EDT
    const lateFriday = officeStatus(night, new Date('2025-06-14T05:00:00Z')); // Sat 01:00 EDT
    // Assess
    expect(lunch.open).toBe(false);
    expect(lunch.nextOpenAt).toEqual(new Date('2025-06-10T17:00:00Z'));
    expect(lateFriday.open).toBe(true);
    expect(lateFriday.closesAt).toEqual(new Date('2025-06-14T06:00:00Z'));
  });

  it('returns no next opening when the office never opens', () => {
    // Prepare
    const closed = officeSettings({
      weeklyHours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
    });
    // Act
    const status = officeStatus(closed, new Date('2025-06-10T14:00:00Z'));
    // Assess
    expect(status).toEqual({ open: false, closesAt: null, nextOpenAt: null, isHoliday: false });
  });

  it('rejects an unknown time zone or a malformed time with a clear error', () => {
    // Act / Assess
    expect(() => officeStatus(officeSettings({ timezone: 'Mars/Olympus' }), new Date())).toThrow(
      OfficeSettingsError,
    );
    expect(() =>
      officeStatus(
        officeSettings({ weeklyHours: everyDay('8am', '17:00') }),
        new Date('2025-06-10T14:00:00Z'),
      ),
    ).toThrow(/not a time/);
  });
});

describe('isQuietHours', () => {
  it('is quiet from 20:00 to 08:00 local time, across a DST change', () => {
    // Prepare
    const settings = officeSettings();
    // Act / Assess (2025-03-09 is spring-forward day in New York)
    expect(isQuietHours(settings, new Date('2025-03-09T23:59:00Z'))).toBe(false); // 19:59 EDT
    expect(isQuietHours(settings, new Date('2025-03-10T00:00:00Z'))).toBe(true); // 20:00 EDT
    expect(isQuietHours(settings, new Date('2025-03-09T07:30:00Z'))).toBe(true); // 03:30 EDT
    expect(isQuietHours(settings, new Date('2025-03-09T11:59:00Z'))).toBe(true); // 07:59 EDT
    expect(isQuietHours(settings, new Date('2025-03-09T12:00:00Z'))).toBe(false); // 08:00 EDT
    expect(isQuietHours(settings, new Date('2025-11-02T12:30:00Z'))).toBe(true); // 07:30 EST
    expect(isQuietHours(settings, new Date('2025-11-02T13:00:00Z'))).toBe(false); // 08:00 EST
  });

  it('uses the office time zone, not the server one', () => {
    // Prepare
    const madrid = officeSettings({ timezone: 'Europe/Madrid' });
    // Act / Assess: 19:30Z is 21:30 in Madrid (summer)
    expect(isQuietHours(madrid, new Date('2025-06-10T19:30:00Z'))).toBe(true);
    expect(isQuietHours(officeSettings(), new Date('2025-06-10T19:30:00Z'))).toBe(false);
  });
});

describe('formatOfficeTime', () => {
  it('shows local weekday and time in the patient language', () => {
    // Prepare
    const monday8 = new Date('2025-03-10T12:00:00Z');
    // Act
    const en = formatOfficeTime(officeSettings(), monday8, 'en');
    const es = formatOfficeTime(officeSettings(), monday8, 'es');
    // Assess
    expect(en).toBe('Mon 8:00 AM');
    expect(es).toBe('lun 08:00');
  });

  it('writes what Intl writes for en-US and es-US, with plain spaces, in any zone', () => {
    const zones = [
      'America/New_York',
      'America/Phoenix',
      'America/St_Johns',
      'Asia/Kolkata',
      'Pacific/Chatham',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2037, 0, 1) }),
        fc.constantFrom('en' as const, 'es' as const),
        fc.boolean(),
        (timezone, instant, language, timeOnly) => {
          const intl = new Intl.DateTimeFormat(language === 'es' ? 'es-US' : 'en-US', {
            timeZone: timezone,
            ...(timeOnly ? {} : { weekday: 'short' as const }),
            hour: 'numeric',
            minute: '2-digit',
            hourCycle: language === 'es' ? 'h23' : 'h12',
          });
          const expected = intl
            .format(instant)
            .replace(/[\u202f\u00a0]/g, ' ')
            .replace(',', '');
          expect(formatOfficeTime({ timezone }, new Date(instant), language, timeOnly)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('says noon and midnight as a patient reads them', () => {
    const utc = { timezone: 'UTC' };
    expect(formatOfficeTime(utc, new Date('2026-01-05T00:00:00Z'), 'en', true)).toBe('12:00 AM');
    expect(formatOfficeTime(utc, new Date('2026-01-05T12:30:00Z'), 'en', true)).toBe('12:30 PM');
    expect(formatOfficeTime(utc, new Date('2026-01-05T00:05:00Z'), 'es', true)).toBe('00:05');
    expect(formatOfficeTime(utc, new Date('2026-01-10T23:59:00Z'), 'es')).toBe('sáb 23:59');
  });

  it('names an unknown zone as an office settings error', () => {
    expect(() => formatOfficeTime({ timezone: 'Mars/Olympus_Mons' }, new Date(0), 'en')).toThrow(
      OfficeSettingsError,
    );
  });
});
