import { CLOCK } from '../alerts/settings.js';
import type { Queryable } from '../db/index.js';
import { EVENT_TYPES } from '../events/types.js';
import { clearPracticeSettingsCache } from '../practice/settings.js';

/**
 * `npm run cli -- settings`: shows and changes the practice settings (voip_settings) and the on-call list
 * (alert_recipients), so nobody edits SQL by hand to run a practice. Every value is checked first, and a bad
 * one is named with what was expected; nothing is written unless every value given is valid.
 */

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SettingsError';
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function checkE164(value: string, what: string): string {
  const trimmed = value.trim();
  if (!E164.test(trimmed))
    throw new SettingsError([`${what} must be an E.164 number like +15551234567, got "${value}"`]);
  return trimmed;
}

export function checkTimeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new SettingsError([`timezone "${value}" is not an IANA time zone (e.g. America/Toronto)`]);
  }
  if (!value.includes('/') && value !== 'UTC')
    throw new SettingsError([`timezone "${value}" is an abbreviation; use a zone like America/Toronto`]);
  return value;
}

/**
 * Weekly hours: `mon-fri 08:00-17:00; sat 09:00-12:00` (days not named are closed; a day may have several
 * ranges, `mon 08:00-12:00,13:00-17:00`), or the stored JSON form.
 */
export function parseHours(value: string): Record<string, [string, string][]> {
  const trimmed = value.trim();
  const hours: Record<string, [string, string][]> = Object.fromEntries(DAYS.map((day) => [day, []]));
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SettingsError(['hours is not valid JSON']);
    }
    for (const [day, ranges] of Object.entries(parsed as Record<string, unknown>)) {
      if (!(DAYS as readonly string[]).includes(day))
        throw new SettingsError([`hours: unknown day "${day}"`]);
      if (!Array.isArray(ranges))
        throw new SettingsError([`hours: ${day} must be a list of ["HH:MM","HH:MM"]`]);
      hours[day] = ranges.map((range) => checkRange(day, `${range?.[0]}-${range?.[1]}`));
    }
    return hours;
  }
  for (const part of trimmed
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]{3})(?:-([a-z]{3}))?\s+(.+)$/i.exec(part);
    if (!match) throw new SettingsError([`hours: "${part}" is not like "mon-fri 08:00-17:00"`]);
    const from = DAYS.indexOf(match[1]!.toLowerCase() as (typeof DAYS)[number]);
    const to = match[2] ? DAYS.indexOf(match[2].toLowerCase() as (typeof DAYS)[number]) : from;
    if (from < 0 || to < 0 || to < from)
      throw new SettingsError([`hours: "${part}" names days as mon, tue, ... sun, in order`]);
    const ranges =
      match[3]!.trim().toLowerCase() === 'closed'
        ? []
        : match[3]!.split(',').map((range) => checkRange(match[1]!, range.trim()));
    for (let day = from; day <= to; day++) hours[DAYS[day]!] = ranges;
  }
  return hours;
}

function checkRange(day: string, range: string): [string, string] {
  const [open, close] = range.split('-').map((t) => t?.trim() ?? '');
  if (!open || !close || !CLOCK.test(open) || !CLOCK.test(close))
    throw new SettingsError([`hours: ${day} "${range}" is not a range like 08:00-17:00 (24-hour clock)`]);
  if (close <= open) throw new SettingsError([`hours: ${day} "${range}" closes before it opens`]);
  return [open, close];
}

/** Holidays: `2026-12-25,2027-01-01` (real calendar dates), or `none`. */
export function parseHolidays(value: string): string[] {
  if (value.trim().toLowerCase() === 'none' || value.trim() === '') return [];
  return value.split(',').map((item) => {
    const date = item.trim();
    const parsed = new Date(`${date}T00:00:00Z`);
    if (!DATE.test(date) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date)
      throw new SettingsError([`holidays: "${date}" is not a date like 2026-12-25`]);
    return date;
  });
}

function parseBoolean(key: string, value: string): boolean {
  if (/^(true|on|yes)$/i.test(value)) return true;
  if (/^(false|off|no)$/i.test(value)) return false;
  throw new SettingsError([`${key} is on or off, got "${value}"`]);
}

function parseEvents(key: string, value: string): string[] {
  if (value.trim() === '' || value.trim() === 'default') return [];
  const types = value.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length)
    throw new SettingsError([
      `${key}: unknown event type ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`,
    ]);
  return types;
}

/** Each settable key: its column and how its value is read. */
const KEYS: Record<
  string,
  { column: string; parse: (value: string, key: string) => unknown; json?: boolean }
> = {
  name: { column: 'practice_name', parse: (v) => nonEmpty('name', v) },
  office_line: { column: 'office_line', parse: (v) => (v === 'none' ? null : checkE164(v, 'office_line')) },
  emergency_line: {
    column: 'emergency_line',
    parse: (v) => (v === 'none' ? null : checkE164(v, 'emergency_line')),
  },
  address: { column: 'address', parse: (v) => (v === 'none' ? null : nonEmpty('address', v)) },
  timezone: { column: 'timezone', parse: checkTimeZone },
  hours: { column: 'weekly_hours', parse: parseHours, json: true },
  holidays: { column: 'holidays', parse: parseHolidays, json: true },
  auto_reply: { column: 'auto_reply_enabled', parse: (v, k) => parseBoolean(k, v) },
  missed_call_text_back: { column: 'missed_call_text_back', parse: (v, k) => parseBoolean(k, v) },
  alert_events: { column: 'alert_events', parse: (v, k) => parseEvents(k, v) },
  alert_detail: {
    column: 'alert_detail',
    parse: (v) => {
      if (v !== 'standard' && v !== 'full') throw new SettingsError(['alert_detail is standard or full']);
      return v;
    },
  },
  alert_quiet_hours: {
    column: 'alert_quiet_hours',
    parse: (v) => {
      if (v === 'none') return null;
      const [start, end] = v.split('-').map((t) => t.trim());
      if (!start || !end || !CLOCK.test(start) || !CLOCK.test(end))
        throw new SettingsError([`alert_quiet_hours is a range like 22:00-07:00, or none; got "${v}"`]);
      return [start, end];
    },
  },
  alert_hourly_cap: {
    column: 'alert_hourly_cap',
    parse: (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new SettingsError([`alert_hourly_cap is a whole number from 1 to 1000, got "${v}"`]);
      return n;
    },
  },
  events_include_text: { column: 'events_include_text', parse: (v, k) => parseBoolean(k, v) },
};

export const SETTING_KEYS = Object.keys(KEYS);

function nonEmpty(key: string, value: string): string {
  if (!value.trim()) throw new SettingsError([`${key} must not be empty`]);
  return value.trim();
}

/** Reads `key=value` pairs; every problem is reported at once. */
export function parseSettingPairs(
  pairs: readonly string[],
): { column: string; value: unknown; json: boolean }[] {
  const problems: string[] = [];
  const changes: { column: string; value: unknown; json: boolean }[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at).trim() : pair;
    const spec = KEYS[key];
    if (!spec) {
      problems.push(`unknown setting "${key}" (settable: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    if (at <= 0) {
      problems.push(`${key} needs a value: ${key}=...`);
      continue;
    }
    try {
      changes.push({
        column: spec.column,
        value: spec.parse(pair.slice(at + 1), key),
        json: spec.json ?? false,
      });
    } catch (error) {
      problems.push(...(error instanceof SettingsError ? error.problems : [(error as Error).message]));
    }
  }
  if (problems.length) throw new SettingsError(problems);
  return changes;
}

export interface SettingsTarget {
  /** 'any' with '*' is the default row every number without its own row uses. */
  provider: 'twilio' | 'voipms' | 'any';
  number: string;
}

/** Applies checked changes to the target's row, creating it from the default row if the number has none. */
export async function applySettings(
  db: Queryable,
  target: SettingsTarget,
  pairs: readonly string[],
): Promise<void> {
  const changes = parseSettingPairs(pairs);
  if (target.number !== '*') checkE164(target.number, '--number');
  await db.query(
    `INSERT INTO voip_settings (provider, phone_number, practice_name, timezone, weekly_hours, holidays,
       auto_reply_enabled, missed_call_text_back, office_line, emergency_line, address, alert_events, alert_detail,
       alert_quiet_hours, alert_hourly_cap, events_include_text)
     SELECT $1, $2, practice_name, timezone, weekly_hours, holidays, auto_reply_enabled, missed_call_text_back,
       office_line, emergency_line, address, alert_events, alert_detail, alert_quiet_hours, alert_hourly_cap,
       events_include_text
     FROM voip_settings WHERE provider = 'any' AND phone_number = '*'
     ON CONFLICT (provider, phone_number) DO NOTHING`,
    [target.provider, target.number],
  );
  if (changes.length === 0) return;
  const sets = changes.map((c, i) => `${c.column} = $${i + 3}${c.json ? '::jsonb' : ''}`);
  await db.query(`UPDATE voip_settings SET ${sets.join(', ')} WHERE provider = $1 AND phone_number = $2`, [
    target.provider,
    target.number,
    ...changes.map((c) => (c.json ? JSON.stringify(c.value) : c.value)),
  ]);
  clearPracticeSettingsCache();
}

/** The settings as a practice manager reads them: the number's own row, else the default row. */
export async function showSettings(db: Queryable, target: SettingsTarget): Promise<string> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT provider, phone_number, practice_name AS name, office_line, emergency_line, address, timezone,
       weekly_hours AS hours, holidays, auto_reply_enabled AS auto_reply, missed_call_text_back, alert_events,
       alert_detail, alert_quiet_hours, alert_hourly_cap, events_include_text
     FROM voip_settings
     WHERE (provider IN ($1, 'any') AND phone_number = $2) OR (provider = 'any' AND phone_number = '*')
     ORDER BY (phone_number = '*'), (provider = 'any') LIMIT 1`,
    [target.provider === 'any' ? 'twilio' : target.provider, target.number],
  );
  const row = rows[0] ?? {};
  const hours = row.hours as Record<string, [string, string][]> | undefined;
  const lines = Object.entries(row).map(([key, value]) => {
    if (key === 'hours' && hours)
      return `hours: ${DAYS.map((d) => `${d} ${(hours[d] ?? []).map((r) => r.join('-')).join(',') || 'closed'}`).join('; ')}`;
    if (key === 'alert_quiet_hours' && Array.isArray(value)) return `${key}: ${value.join('-')}`;
    const shown = Array.isArray(value) ? value.join(',') || '(none)' : (value ?? '(none)');
    return `${key}: ${shown}`;
  });
  return lines.join('\n');
}

export interface OnCallChange {
  practiceNumber: string;
  phoneNumber: string;
  position?: number;
  events?: string;
  name?: string;
}

/** Adds or updates an on-call person; a position already taken moves the others down. */
export async function addOnCall(db: Queryable, change: OnCallChange): Promise<void> {
  const practice = checkE164(change.practiceNumber, 'the practice number');
  const phone = checkE164(change.phoneNumber, 'the on-call number');
  if (phone === practice)
    throw new SettingsError(['the on-call number cannot be the practice number itself']);
  const events = change.events === undefined ? [] : parseEvents('--events', change.events);
  if (change.position !== undefined && (!Number.isInteger(change.position) || change.position < 1))
    throw new SettingsError(['--position is a whole number from 1']);
  const { rows } = await db.query<{ next: number }>(
    'SELECT coalesce(max(position), 0) + 1 AS next FROM alert_recipients WHERE practice_number = $1',
    [practice],
  );
  const position = change.position ?? Number(rows[0]?.next ?? 1);
  await db.query(
    `UPDATE alert_recipients SET position = position + 1
     WHERE practice_number = $1 AND position >= $2 AND phone_number <> $3`,
    [practice, position, phone],
  );
  await db.query(
    `INSERT INTO alert_recipients (practice_number, phone_number, position, events, name)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (practice_number, phone_number) DO UPDATE SET position = EXCLUDED.position,
       events = EXCLUDED.events, name = coalesce(EXCLUDED.name, alert_recipients.name), enabled = true`,
    [practice, phone, position, events, change.name ?? null],
  );
}

export async function removeOnCall(
  db: Queryable,
  practiceNumber: string,
  phoneNumber: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    'DELETE FROM alert_recipients WHERE practice_number = $1 AND phone_number = $2',
    [checkE164(practiceNumber, 'the practice number'), checkE164(phoneNumber, 'the on-call number')],
  );
  return rowCount > 0;
}

export async function listOnCall(db: Queryable, practiceNumber: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT position, phone_number, coalesce(name, '') AS name,
       CASE WHEN cardinality(events) = 0 THEN '(defaults)' ELSE array_to_string(events, ',') END AS events, enabled
     FROM alert_recipients WHERE practice_number = $1 ORDER BY position, id`,
    [practiceNumber],
  );
  return rows;
}
