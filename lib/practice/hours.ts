// The practice's office hours, in its own time zone, with no date library: open or closed, the next opening,
// quiet hours, the office day, and times as a patient reads them. The one place that knows about hours. Local
// wall-clock times are turned into instants per day, so days that are 23 or 25 hours long (DST changes) come out
// right; the zone's offsets come from lib/practice/zone.ts.

import { UnknownTimeZoneError, wallClockInstant, zoneOffsetAt } from './zone.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** The hours part of the practice settings (voip_settings), as stored. */
export interface OfficeSettings {
  timezone: string;
  /** Opening intervals per weekday as local "HH:MM" pairs; "24:00" closes at midnight, a close before the open runs past midnight. */
  weeklyHours: Readonly<Partial<Record<string, readonly (readonly [string, string])[]>>>;
  /** Closed days: bare "YYYY-MM-DD" strings or `{ date, name }` objects (voip_settings.holidays holds either). */
  holidays: readonly unknown[];
}

export interface OfficeStatus {
  open: boolean;
  closesAt: Date | null;
  nextOpenAt: Date | null;
  isHoliday: boolean;
}

export class OfficeSettingsError extends Error {
  override name = 'OfficeSettingsError';
}

/** Quiet hours for texts we start ourselves: 20:00 to 08:00 local. */
const QUIET_START_MINUTES = 20 * 60;
const QUIET_END_MINUTES = 8 * 60;
/** How far ahead to look for the next opening (covers long holiday closures). */
const LOOKAHEAD_DAYS = 31;
const DAY_MS = 86_400_000;
const WEEKDAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** A zone lookup for the office, whose unknown zone is a settings error. */
function inOfficeZone<T>(timezone: string, lookup: () => T): T {
  try {
    return lookup();
  } catch (error) {
    if (error instanceof UnknownTimeZoneError)
      throw new OfficeSettingsError(`unknown office timezone "${timezone}"`);
    throw error;
  }
}

/** Zone offset (local minus UTC, in ms) in force at an instant. */
function offsetAt(timezone: string, instant: number): number {
  return inOfficeZone(timezone, () => zoneOffsetAt(timezone, instant));
}

function localParts(timezone: string, instant: number): LocalParts & { second: number } {
  const local = new Date(instant + offsetAt(timezone, instant));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
  };
}

/** The instant at which the local clock shows the given date and minute of day (lib/practice/zone.ts's rule). */
function localToInstant(timezone: string, year: number, month: number, day: number, minutes: number): number {
  return inOfficeZone(timezone, () => wallClockInstant(timezone, Date.UTC(year, month - 1, day, 0, minutes)));
}

function parseClock(value: string, where: string): number {
  const text = typeof value === 'string' ? value.trim() : '';
  const colon = text.indexOf(':');
  const hours = Number(colon < 0 ? text : text.slice(0, colon));
  const minutes = colon < 0 ? 0 : Number(text.slice(colon + 1));
  if (
    text.length === 0 ||
    !Number.isInteger(hours) ||
    !Number.isInteger(minutes) ||
    hours < 0 ||
    minutes < 0 ||
    minutes > 59 ||
    hours * 60 + minutes > 24 * 60
  ) {
    throw new OfficeSettingsError(`office hours for ${where}: "${value}" is not a time like "08:30"`);
  }
  return hours * 60 + minutes;
}

function dateKey(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function isHolidayDate(settings: OfficeSettings, key: string): boolean {
  return (settings.holidays ?? []).some(
    (h) => h === key || (typeof h === 'object' && h !== null && (h as { date?: unknown }).date === key),
  );
}

/** Opening intervals (instants) of one local calendar day, empty on holidays. */
function intervalsOn(settings: OfficeSettings, year: number, month: number, day: number): [number, number][] {
  if (isHolidayDate(settings, dateKey(year, month, day))) return [];
  const weekday = WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()]!;
  const out: [number, number][] = [];
  for (const interval of settings.weeklyHours?.[weekday] ?? []) {
    const [from, to] = interval;
    const open = parseClock(from, weekday);
    let close = parseClock(to, weekday);
    if (close <= open) close += 24 * 60; // runs past midnight
    const openAt = localToInstant(settings.timezone, year, month, day, open);
    const closeAt = localToInstant(settings.timezone, year, month, day, close);
    if (closeAt > openAt) out.push([openAt, closeAt]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function addDays(year: number, month: number, day: number, days: number): [number, number, number] {
  const d = new Date(Date.UTC(year, month - 1, day) + days * DAY_MS);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

const MINUTE_MS = 60_000;
/** The last status worked out per settings object: opening times fall on whole minutes, so it holds for the minute. */
const lastStatus = new WeakMap<OfficeSettings, { minute: number; status: OfficeStatus }>();

/** Whether the office is open at `now`, when it closes, when it next opens, and whether today is a holiday. */
export function officeStatus(settings: OfficeSettings, now: Date): OfficeStatus {
  const minute = Math.floor(now.getTime() / MINUTE_MS);
  const last = lastStatus.get(settings);
  if (last?.minute === minute) return last.status;
  const status = computeOfficeStatus(settings, now);
  lastStatus.set(settings, { minute, status });
  return status;
}

function computeOfficeStatus(settings: OfficeSettings, now: Date): OfficeStatus {
  const t = now.getTime();
  const today = localParts(settings.timezone, t);
  const isHoliday = isHolidayDate(settings, dateKey(today.year, today.month, today.day));

  // Yesterday too: an interval that runs past midnight may still be open.
  const intervals: [number, number][] = [];
  for (let offset = -1; offset <= LOOKAHEAD_DAYS; offset++) {
    const [y, m, d] = addDays(today.year, today.month, today.day, offset);
    intervals.push(...intervalsOn(settings, y, m, d));
    if (offset >= 1 && intervals.some(([openAt]) => openAt > t)) break;
  }
  intervals.sort((a, b) => a[0] - b[0]);

  let closesAt: number | null = null;
  for (const [openAt, closeAt] of intervals) {
    if (openAt <= t && t < closeAt) {
      closesAt = closeAt;
      // Back-to-back intervals ("08:00-12:00", "12:00-17:00") read as one opening.
      for (const [nextOpen, nextClose] of intervals) {
        if (nextOpen <= closesAt && nextClose > closesAt) closesAt = nextClose;
      }
      break;
    }
  }
  let nextOpenAt: number | null = null;
  for (const [openAt] of intervals) {
    if (openAt > t && (closesAt === null || openAt > closesAt)) {
      nextOpenAt = openAt;
      break;
    }
  }
  return {
    open: closesAt !== null,
    closesAt: closesAt === null ? null : new Date(closesAt),
    nextOpenAt: nextOpenAt === null ? null : new Date(nextOpenAt),
    isHoliday,
  };
}

/** 20:00 to 08:00 in the office's time zone: automated texts we start ourselves wait until morning. */
export function isQuietHours(settings: OfficeSettings, now: Date): boolean {
  const p = localParts(settings.timezone, now.getTime());
  const minutes = p.hour * 60 + p.minute;
  return minutes >= QUIET_START_MINUTES || minutes < QUIET_END_MINUTES;
}

const WEEKDAY_NAMES: Record<'en' | 'es', readonly string[]> = {
  en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
  es: ['dom', 'lun', 'mar', 'mié', 'jue', 'vie', 'sáb'],
};

/**
 * A local time for a patient: "Mon 8:00 AM" in English, "lun 08:00" in Spanish; with `timeOnly`,
 * "5:00 PM" / "17:00" (for a time later the same day). Written out rather than asked of Intl: the same text as
 * Intl's en-US and es-US, without its start-up on a cold container, and plain ASCII spaces whatever ICU's version.
 */
export function formatOfficeTime(
  settings: Pick<OfficeSettings, 'timezone'>,
  instant: Date,
  language: 'en' | 'es',
  timeOnly = false,
): string {
  const t = instant.getTime();
  const local = new Date(t + offsetAt(settings.timezone, t));
  const hour = local.getUTCHours();
  const minute = String(local.getUTCMinutes()).padStart(2, '0');
  const time =
    language === 'es'
      ? `${String(hour).padStart(2, '0')}:${minute}`
      : `${hour % 12 || 12}:${minute} ${hour < 12 ? 'AM' : 'PM'}`;
  return timeOnly ? time : `${WEEKDAY_NAMES[language][local.getUTCDay()]} ${time}`;
}

/** Minutes since local midnight in a zone (0–1439), through the same cached offsets as the office hours. */
export function minuteOfDay(timezone: string, at: Date): number {
  const local = localParts(timezone, at.getTime());
  return local.hour * 60 + local.minute;
}

/** The office day (local calendar date, YYYY-MM-DD) a moment falls on, for once-per-day guards and caps. */
export function officeDay(timezone: string, now: Date): string {
  const local = localParts(timezone, now.getTime());
  return dateKey(local.year, local.month, local.day);
}
