import {
  type OfficeSettings,
  type OfficeStatus,
  isQuietHours as officeQuietHours,
  officeStatus as officeStatusOf,
} from '../autoreply/office-hours.js';
import type { PracticeSettings } from './settings.js';

export type { OfficeStatus };

type HoursSettings = Pick<PracticeSettings, 'timezone' | 'weeklyHours' | 'holidays'>;

/** voip_settings.holidays may hold bare "YYYY-MM-DD" strings or `{ date, name }` objects. */
function officeSettings(settings: HoursSettings): OfficeSettings {
  const holidays = settings.holidays.flatMap((holiday) =>
    typeof holiday === 'string'
      ? [{ date: holiday }]
      : holiday && typeof (holiday as { date?: unknown }).date === 'string'
        ? [holiday as { date: string; name?: string }]
        : [],
  );
  return {
    timezone: settings.timezone,
    weeklyHours: settings.weeklyHours as OfficeSettings['weeklyHours'],
    holidays,
  };
}

export const officeStatus = (settings: HoursSettings, now: Date): OfficeStatus =>
  officeStatusOf(officeSettings(settings), now);

export const isQuietHours = (settings: HoursSettings, now: Date): boolean =>
  officeQuietHours(officeSettings(settings), now);

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The office day (local calendar date, YYYY-MM-DD) a moment falls on, for once-per-day guards and caps. */
export function officeDay(timezone: string, now: Date): string {
  let format = dayFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}
