import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  forgetZoneOffsets,
  rememberZoneOffsets,
  UnknownTimeZoneError,
  wallClockInstant,
  zoneOffsetAt,
} from '../../../lib/practice/zone.js';
import { useTestDb } from '../../support/db.js';
import { watchIntlFormatters } from '../../support/intl.js';

const testDb = useTestDb();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Puerto_Rico',
  'America/Mexico_City',
  'America/St_Johns',
  'Europe/Madrid',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Pacific/Chatham',
];

const oracles = new Map<string, Intl.DateTimeFormat>();

/** The offset as Intl names it ("GMT-05:00", "GMT+05:45", "GMT"): the oracle, another path than the module's. */
function intlOffset(zone: string, instant: number): number {
  let oracle = oracles.get(zone);
  if (!oracle) {
    oracle = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    oracles.set(zone, oracle);
  }
  const name = oracle.formatToParts(instant).find((part) => part.type === 'timeZoneName')!.value;
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!match) throw new Error(`unexpected offset name ${name}`);
  if (!match[1]) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * HOUR + Number(match[3]) * 60_000);
}

async function readFromPostgres(zone: string, from: number, until: number): Promise<unknown> {
  const { rows } = await testDb.db.query<{ changes: unknown }>('SELECT zone_offsets($1, $2, $3) AS changes', [
    zone,
    new Date(from).toISOString(),
    new Date(until).toISOString(),
  ]);
  return rows[0]!.changes;
}

afterEach(() => {
  forgetZoneOffsets();
  vi.restoreAllMocks();
});

describe('zone_offsets (Postgres)', () => {
  it('lists the change points of a window, to the quarter hour', async () => {
    // Act: the week of the 2026 spring change in New York, and Lord Howe's half-hour change in April
    const newYork = await readFromPostgres(
      'America/New_York',
      Date.UTC(2026, 2, 7, 13, 7),
      Date.UTC(2026, 2, 16),
    );
    const lordHowe = await readFromPostgres(
      'Australia/Lord_Howe',
      Date.UTC(2026, 3, 1),
      Date.UTC(2026, 3, 10),
    );
    // Assess: the window's first hour, then each change at its instant
    expect(newYork).toEqual([
      [Date.UTC(2026, 2, 7, 13), -5 * HOUR],
      [Date.UTC(2026, 2, 8, 7), -4 * HOUR],
    ]);
    expect(lordHowe).toEqual([
      [Date.UTC(2026, 3, 1), 11 * HOUR],
      [Date.UTC(2026, 3, 4, 15), 10.5 * HOUR],
    ]);
  });

  it('answers NULL for a zone it does not know', async () => {
    expect(
      await readFromPostgres('Mars/Olympus_Mons', Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2)),
    ).toBeNull();
  });

  it('agrees with Intl at every instant of its window, for zones with odd offsets and changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ZONES),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2037, 0, 1) }),
        fc.array(fc.integer({ min: 0, max: 12 * DAY - 1 }), { minLength: 1, maxLength: 20 }),
        async (zone, from, probes) => {
          const until = Math.floor((from + 12 * DAY) / HOUR) * HOUR;
          forgetZoneOffsets();
          rememberZoneOffsets(zone, await readFromPostgres(zone, from, until), until);
          for (const probe of probes) {
            const instant = Math.min(from + probe, until - 1);
            expect(zoneOffsetAt(zone, instant)).toBe(intlOffset(zone, instant));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('agrees with Intl across the changes of a whole year', async () => {
    for (const zone of ZONES) {
      const from = Date.UTC(2026, 0, 1);
      const until = Date.UTC(2027, 0, 1);
      forgetZoneOffsets();
      rememberZoneOffsets(zone, await readFromPostgres(zone, from, until), until);
      for (let instant = from; instant < until; instant += 15 * 60_000) {
        if (zoneOffsetAt(zone, instant) !== intlOffset(zone, instant))
          expect({ zone, at: new Date(instant).toISOString(), offset: zoneOffsetAt(zone, instant) }).toEqual({
            zone,
            at: new Date(instant).toISOString(),
            offset: intlOffset(zone, instant),
          });
      }
    }
  });
});

describe('zoneOffsetAt', () => {
  it('answers a remembered zone inside its window without starting Intl, and asks Intl outside it', async () => {
    // Prepare
    const from = Date.UTC(2026, 10, 30);
    const until = from + 9 * DAY;
    rememberZoneOffsets('America/Denver', await readFromPostgres('America/Denver', from, until), until);
    const intl = watchIntlFormatters();
    // Act
    const inside = zoneOffsetAt('America/Denver', from + 3 * DAY);
    const formattersInside = intl.mock.calls.length;
    const after = zoneOffsetAt('America/Denver', until + HOUR);
    // Assess
    expect(inside).toBe(-7 * HOUR);
    expect(formattersInside).toBe(0);
    expect(after).toBe(-7 * HOUR);
    expect(intl).toHaveBeenCalled();
  });

  it('works out UTC and the fixed Etc/GMT zones itself, with the POSIX sign', () => {
    // Prepare
    const intl = watchIntlFormatters();
    const now = Date.UTC(2026, 5, 1, 12);
    // Act / Assess
    expect(zoneOffsetAt('UTC', now)).toBe(0);
    expect(zoneOffsetAt('Etc/UTC', now)).toBe(0);
    expect(zoneOffsetAt('Etc/GMT+5', now)).toBe(-5 * HOUR);
    expect(zoneOffsetAt('Etc/GMT-14', now)).toBe(14 * HOUR);
    expect(zoneOffsetAt('Etc/GMT+12', now)).toBe(-12 * HOUR);
    expect(intl).not.toHaveBeenCalled();
  });

  it('leaves to Intl what is not a tz database fixed zone, and names an unknown zone', () => {
    // Act / Assess: Etc/GMT+13 and Etc/GMT-15 do not exist; Etc/GMT-05 is not how the database writes one
    for (const zone of ['Etc/GMT+13', 'Etc/GMT-15', 'Etc/GMT-05', 'Mars/Olympus_Mons', '']) {
      expect(() => zoneOffsetAt(zone, 0)).toThrow(UnknownTimeZoneError);
    }
    expect(() => zoneOffsetAt('Mars/Olympus_Mons', 0)).toThrow('Unknown time zone "Mars/Olympus_Mons"');
  });

  it('ignores offsets it cannot read, and asks Intl instead', () => {
    // Prepare: unordered points, two at one instant, a non-number, an empty list, a window with no end
    const until = Date.UTC(2026, 0, 10);
    const wrong = -3 * HOUR;
    rememberZoneOffsets(
      'America/Chicago',
      [
        [until - DAY, wrong],
        [until - 2 * DAY, wrong],
      ],
      until,
    );
    rememberZoneOffsets(
      'America/Los_Angeles',
      [
        [until - 2 * DAY, wrong],
        [until - 2 * DAY, wrong],
      ],
      until,
    );
    rememberZoneOffsets('America/Denver', [[Date.UTC(2026, 0, 1), 'x']], until);
    rememberZoneOffsets('America/Phoenix', [], until);
    rememberZoneOffsets('America/Anchorage', [[Date.UTC(2026, 0, 1), wrong]], Number.NaN);
    rememberZoneOffsets('Pacific/Honolulu', null, until);
    // Act / Assess
    const at = Date.UTC(2026, 0, 9);
    expect(zoneOffsetAt('America/Chicago', at)).toBe(-6 * HOUR);
    expect(zoneOffsetAt('America/Los_Angeles', at)).toBe(-8 * HOUR);
    expect(zoneOffsetAt('America/Denver', at)).toBe(-7 * HOUR);
    expect(zoneOffsetAt('America/Phoenix', at)).toBe(-7 * HOUR);
    expect(zoneOffsetAt('America/Anchorage', at)).toBe(-9 * HOUR);
    expect(zoneOffsetAt('Pacific/Honolulu', at)).toBe(-10 * HOUR);
  });

  it('reads a remembered window from its first point up to, not including, its end', () => {
    // Prepare: offsets deliberately unlike the real zone's, to see which source answered
    const start = Date.UTC(2026, 0, 1);
    const until = start + 2 * DAY;
    rememberZoneOffsets(
      'America/New_York',
      [
        [start, 1 * HOUR],
        [start + DAY, 2 * HOUR],
      ],
      until,
    );
    // Act / Assess
    expect(zoneOffsetAt('America/New_York', start - 1)).toBe(-5 * HOUR);
    expect(zoneOffsetAt('America/New_York', start)).toBe(1 * HOUR);
    expect(zoneOffsetAt('America/New_York', start + DAY - 1)).toBe(1 * HOUR);
    expect(zoneOffsetAt('America/New_York', start + DAY)).toBe(2 * HOUR);
    expect(zoneOffsetAt('America/New_York', until - 1)).toBe(2 * HOUR);
    expect(zoneOffsetAt('America/New_York', until)).toBe(-5 * HOUR);
  });
});

describe('wallClockInstant', () => {
  /** Every instant whose local clock shows `wall`, found by the oracle over the offsets a day either side. */
  function oracleInstants(zone: string, wall: number): number[] {
    const offsets = new Set<number>();
    for (let at = wall - 2 * DAY; at <= wall + 2 * DAY; at += 15 * 60_000) offsets.add(intlOffset(zone, at));
    return [...offsets]
      .map((offset) => wall - offset)
      .filter((instant) => instant + intlOffset(zone, instant) === wall)
      .sort((a, b) => a - b);
  }

  it('gives the first instant the clock shows a time, or for a skipped time the one as far past the change', () => {
    const quarterHours = (from: number) =>
      fc.integer({ min: 0, max: 4 * 24 * 30 }).map((q) => from + q * 900_000);
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.oneof(
          fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2037, 0, 1) }),
          // The weeks around this year's spring and autumn changes, where the rule matters
          quarterHours(Date.UTC(2026, 2, 1)),
          quarterHours(Date.UTC(2026, 3, 1)),
          quarterHours(Date.UTC(2026, 9, 15)),
        ),
        (zone, wall) => {
          const instant = wallClockInstant(zone, wall);
          const shown = oracleInstants(zone, wall);
          if (shown.length > 0) {
            expect(instant).toBe(shown[0]);
          } else {
            // Skipped: read with the offset before the change, the clock shows it moved forward by the gap.
            const gap = intlOffset(zone, instant) - intlOffset(zone, instant - DAY);
            expect(gap).toBeGreaterThan(0);
            expect(instant + intlOffset(zone, instant)).toBe(wall + gap);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reads the hour New York repeats as its first occurrence and the hour it skips as an hour later', () => {
    expect(wallClockInstant('America/New_York', Date.UTC(2026, 10, 1, 1, 30))).toBe(
      Date.UTC(2026, 10, 1, 5, 30),
    );
    expect(wallClockInstant('America/New_York', Date.UTC(2026, 2, 8, 2, 30))).toBe(
      Date.UTC(2026, 2, 8, 7, 30),
    );
    expect(wallClockInstant('America/New_York', Date.UTC(2026, 2, 8, 3, 30))).toBe(
      Date.UTC(2026, 2, 8, 7, 30),
    );
  });
});
