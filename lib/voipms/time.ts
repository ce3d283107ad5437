import { wallClockInstant } from '../practice/zone.js';

/**
 * Wall-clock times in a named IANA zone ↔ instants, with no date library in the bundle (lib/practice/zone.ts).
 * VoIP.ms writes every date as `YYYY-MM-DD HH:MM:SS` in a zone it does not name.
 */

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * `2024-03-10 02:30:00` in `America/New_York` → the instant. Follows the usual "compatible" rule for
 * clock changes: a time that happens twice (autumn) is the earlier one, a time skipped (spring) moves forward.
 * Returns undefined when the text is not such a wall-clock time.
 */
export function wallClockToInstant(text: string, timeZone: string): Date | undefined {
  const match = WALL_CLOCK.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  // At most four digits a field: always a finite time.
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  return new Date(wallClockInstant(timeZone, wall));
}

/** The calendar date (`YYYY-MM-DD`) an instant falls on at a fixed offset of whole hours from UTC. */
export function dateAtOffset(instant: Date, offsetHours: number): string {
  return new Date(instant.getTime() + offsetHours * 3_600_000).toISOString().slice(0, 10);
}

/** The IANA zone with a fixed offset of whole hours (`-5` → `Etc/GMT+5`; the sign is inverted by POSIX). */
export function fixedOffsetZone(offsetHours: number): string {
  if (offsetHours === 0) return 'UTC';
  return `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;
}
