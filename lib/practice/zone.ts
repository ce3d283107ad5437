// UTC offsets of IANA time zones, for placing local times. Intl knows every zone, but its first use in a process
// starts ICU's locale services, ~20 ms that a cold container would add to the first text or call it answers. So
// Intl is the last resort: fixed-offset zones are worked out directly, and the practice settings bring their
// zone's offsets for the coming days from Postgres's tz database (`zone_offsets`, lib/practice/settings.ts).

export class UnknownTimeZoneError extends RangeError {
  override name = 'UnknownTimeZoneError';
  constructor(readonly timeZone: string) {
    super(`Unknown time zone "${timeZone}" (expected an IANA name such as America/Toronto)`);
  }
}

/** A zone's offsets over a window: from each `changes` point ([instant, offset], ms, in time order) to the next. */
interface KnownZoneOffsets {
  changes: readonly (readonly [number, number])[];
  until: number;
}

const HOUR_MS = 3_600_000;
// Zone offsets change only at quarter-hour boundaries (every clock change in the tz database does), so one Intl
// lookup per zone and quarter hour serves every instant in it.
const QUARTER_HOUR_MS = 900_000;

const known = new Map<string, KnownZoneOffsets>();
const looked = new Map<string, number>();
const formatters = new Map<string, Intl.DateTimeFormat>();

/** `UTC` and the tz database's `Etc/GMT±N` zones (POSIX sign: `Etc/GMT+5` is five hours behind UTC). */
function fixedOffset(timeZone: string): number | undefined {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'Etc/GMT') return 0;
  const match = /^Etc\/GMT([+-])(\d{1,2})$/.exec(timeZone);
  if (!match) return undefined;
  const hours = Number(match[2]);
  if (match[2]!.startsWith('0') || hours > (match[1] === '+' ? 12 : 14)) return undefined;
  return (match[1] === '+' ? -hours : hours) * HOUR_MS;
}

/**
 * Keeps a zone's offsets over a window (as read by `zone_offsets` in Postgres). Malformed input is ignored, so the
 * zone is simply looked up in Intl.
 */
export function rememberZoneOffsets(timeZone: string, changes: unknown, until: number): void {
  if (!Array.isArray(changes) || changes.length === 0 || !Number.isFinite(until)) return;
  const points: [number, number][] = [];
  for (const change of changes) {
    const [at, offset] = Array.isArray(change) ? change.map(Number) : [];
    if (!Number.isFinite(at) || !Number.isFinite(offset)) return;
    if (points.length > 0 && at! <= points[points.length - 1]![0]) return;
    points.push([at!, offset!]);
  }
  known.set(timeZone, { changes: points, until });
}

/** Drops every offset remembered or looked up, as on a new container (tests). */
export function forgetZoneOffsets(): void {
  known.clear();
  looked.clear();
  formatters.clear();
}

function knownOffset(timeZone: string, instant: number): number | undefined {
  const window = known.get(timeZone);
  if (window === undefined || instant >= window.until || instant < window.changes[0]![0]) return undefined;
  let offset = window.changes[0]![1];
  for (const [at, next] of window.changes) {
    if (at > instant) break;
    offset = next;
  }
  return offset;
}

function intlOffset(timeZone: string, instant: number): number {
  const quarter = Math.floor(instant / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  const key = `${timeZone}|${quarter}`;
  let offset = looked.get(key);
  if (offset === undefined) {
    let formatter = formatters.get(timeZone);
    if (formatter === undefined) {
      try {
        formatter = new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
      } catch {
        throw new UnknownTimeZoneError(timeZone);
      }
      formatters.set(timeZone, formatter);
    }
    const parts: Record<string, number> = {};
    for (const part of formatter.formatToParts(new Date(quarter))) parts[part.type] = Number(part.value);
    const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
    offset = Date.UTC(year, month - 1, day, hour % 24, minute, second) - quarter;
    if (looked.size > 50_000) looked.clear();
    looked.set(key, offset);
  }
  return offset;
}

/** The zone's offset from UTC (local minus UTC, in ms) in force at an instant; UnknownTimeZoneError if none. */
export function zoneOffsetAt(timeZone: string, instant: number): number {
  return fixedOffset(timeZone) ?? knownOffset(timeZone, instant) ?? intlOffset(timeZone, instant);
}

// No zone is more than 14 hours from UTC, and no zone changes its offset twice within 30 hours.
const WALL_CLOCK_REACH_MS = 15 * HOUR_MS;

/**
 * The instant at which the zone's clock shows `wall` (the wall-clock time written as if it were UTC, in ms), by
 * the usual "compatible" rule for clock changes: a time that happens twice (autumn) is the earlier one, a time the
 * change skips (spring) moves forward by the gap. The offsets are read 15 hours either side of the wall time,
 * which spans every instant it can be and stays inside the window the practice settings bring.
 */
export function wallClockInstant(timeZone: string, wall: number): number {
  const before = wall - zoneOffsetAt(timeZone, wall - WALL_CLOCK_REACH_MS);
  const after = wall - zoneOffsetAt(timeZone, wall + WALL_CLOCK_REACH_MS);
  const valid = [before, after].filter((instant) => instant + zoneOffsetAt(timeZone, instant) === wall);
  // Two: the hour that repeats, take the first; none: the hour that is skipped, read with the offset before it.
  return valid.length > 0 ? Math.min(...valid) : before;
}
