// Temporary stand-in for lib/autoreply/office-hours.ts (being written alongside): same signatures, so the
// switch is this one file re-exporting theirs. Weekly hours only; holidays as "YYYY-MM-DD" strings.
export interface OfficeHoursSettings {
  timezone: string;
  weeklyHours: Record<string, [string, string][]>;
  holidays: unknown[];
}

export interface OfficeStatus {
  open: boolean;
  closesAt: Date | null;
  nextOpenAt: Date | null;
  isHoliday: boolean;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function localParts(timezone: string, now: Date): { date: string; day: string; minutes: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(now)
      .map((part) => [part.type, part.value]),
  );
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const day = DAYS[new Date(`${date}T12:00:00Z`).getUTCDay()]!;
  return { date, day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function officeStatus(settings: OfficeHoursSettings, now: Date): OfficeStatus {
  const local = localParts(settings.timezone, now);
  const isHoliday = settings.holidays.some(
    (holiday) => holiday === local.date || (holiday as { date?: string } | null)?.date === local.date,
  );
  const open =
    !isHoliday &&
    (settings.weeklyHours[local.day] ?? []).some(
      ([from, to]) => local.minutes >= toMinutes(from) && local.minutes < toMinutes(to),
    );
  return { open, closesAt: null, nextOpenAt: null, isHoliday };
}

/** Quiet hours for texts we start ourselves: 20:00–08:00 local. */
export function isQuietHours(settings: { timezone: string }, now: Date): boolean {
  const { minutes } = localParts(settings.timezone, now);
  return minutes >= 20 * 60 || minutes < 8 * 60;
}

/** The office day (local calendar date) a moment falls on, e.g. for once-per-day guards. */
export function officeDay(timezone: string, now: Date): string {
  return localParts(timezone, now).date;
}
