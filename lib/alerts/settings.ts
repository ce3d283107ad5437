import type { Queryable } from '../db/index.js';
import { formatOfficeTime, minuteOfDay } from '../practice/hours.js';

/** Detail level of an alert text: 'standard' never carries the patient's words; 'full' does. */
export type AlertDetail = 'standard' | 'full';

export interface AlertRecipient {
  phoneNumber: string;
  position: number;
  /** Event types this person wants; empty means the practice's defaults. */
  events: string[];
  name: string | null;
}

/** What the subscriber needs to alert people for one practice number (its voip_settings row, else the default). */
export interface AlertSettings {
  practiceName: string;
  timezone: string;
  emergencyLine: string | null;
  defaultEvents: string[];
  detail: AlertDetail;
  /** Local "HH:MM" start and end; null when the practice has none. */
  quietHours: [string, string] | null;
  hourlyCap: number;
  /** Enabled recipients, in escalation order. */
  recipients: AlertRecipient[];
}

interface Row {
  practice_name: string | null;
  timezone: string | null;
  emergency_line: string | null;
  alert_events: string[] | null;
  alert_detail: AlertDetail | null;
  alert_quiet_hours: string[] | null;
  alert_hourly_cap: number | null;
  recipients: { phone_number: string; position: number; events: string[]; name: string | null }[] | null;
}

/** One query: the practice's alert settings and its enabled on-call list. */
export async function loadAlertSettings(
  db: Queryable,
  provider: string,
  practiceNumber: string,
): Promise<AlertSettings> {
  const { rows } = await db.query<Row>(
    `SELECT v.practice_name, v.timezone, v.emergency_line, v.alert_events, v.alert_detail, v.alert_quiet_hours,
       v.alert_hourly_cap,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('phone_number', r.phone_number, 'position', r.position,
           'events', r.events, 'name', r.name) ORDER BY r.position, r.id), '[]'::jsonb)
        FROM alert_recipients r WHERE r.practice_number = $2 AND r.enabled) AS recipients
     FROM (SELECT 1) one LEFT JOIN LATERAL (
       SELECT * FROM voip_settings s
       WHERE (s.provider IN ($1, 'any') AND s.phone_number = $2) OR (s.provider = 'any' AND s.phone_number = '*')
       ORDER BY (s.phone_number = '*'), (s.provider = 'any') LIMIT 1) v ON true`,
    [provider, practiceNumber],
  );
  const row = rows[0];
  const quiet = row?.alert_quiet_hours;
  return {
    practiceName: row?.practice_name ?? 'our office',
    timezone: row?.timezone ?? 'America/New_York',
    emergencyLine: row?.emergency_line ?? null,
    defaultEvents: row?.alert_events ?? ['patient.emergency', 'voicemail.received'],
    detail: row?.alert_detail ?? 'standard',
    quietHours: quiet && quiet.length === 2 ? [quiet[0]!, quiet[1]!] : null,
    hourlyCap: row?.alert_hourly_cap ?? 10,
    recipients: (row?.recipients ?? []).map((r) => ({
      phoneNumber: r.phone_number,
      position: Number(r.position),
      events: r.events ?? [],
      name: r.name,
    })),
  };
}

export const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(clock: string): number {
  const match = CLOCK.exec(clock);
  if (!match) throw new Error(`"${clock}" is not a time like 22:00`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * When the quiet hours around `now` end (a non-emergency alert waits until then), or null outside them. The
 * window may cross midnight (22:00 to 07:00). Settings it cannot read never hold an alert back.
 */
export function quietUntil(settings: Pick<AlertSettings, 'quietHours' | 'timezone'>, now: Date): Date | null {
  if (!settings.quietHours) return null;
  try {
    const start = minutesOf(settings.quietHours[0]);
    const end = minutesOf(settings.quietHours[1]);
    const current = minuteOfDay(settings.timezone, now);
    const inside = start <= end ? current >= start && current < end : current >= start || current < end;
    if (!inside) return null;
    const wait = (end - current + 24 * 60) % (24 * 60);
    return new Date(now.getTime() + wait * 60_000 - now.getUTCSeconds() * 1000);
  } catch {
    return null;
  }
}

/** "9:42 PM" in the office's zone, for alert texts. */
export function localTime(timezone: string, at: Date): string {
  try {
    return formatOfficeTime({ timezone }, at, 'en', true);
  } catch {
    return `${at.toISOString().slice(11, 16)} UTC`;
  }
}
