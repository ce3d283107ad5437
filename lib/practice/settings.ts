import type { Queryable } from '../db/index.js';
import { rememberZoneOffsets } from './zone.js';

/** Opening intervals per weekday (`mon`…`sun`), local "HH:MM" pairs, as stored in voip_settings.weekly_hours. */
export type WeeklyHours = Record<string, [string, string][]>;

/** The practice as configured in voip_settings, for one provider and number. */
export interface PracticeSettings {
  practiceName: string;
  timezone: string;
  weeklyHours: WeeklyHours;
  /** As stored in voip_settings.holidays (dates, or objects the office-hours module understands). */
  holidays: unknown[];
  autoReplyEnabled: boolean;
  missedCallTextBack: boolean;
  officeLine: string | null;
  emergencyLine: string | null;
  address: string | null;
  /**
   * Twilio numbers: 'default' when Twilio's default keyword handling confirms its English keywords itself,
   * 'advanced' with Advanced Opt-Out (Twilio reports what it handled in OptOutType). Absent means 'default'.
   */
  twilioKeywordHandling?: TwilioKeywordHandling;
  /** Whether `sms.received` events carry the message text (voip_settings.events_include_text). */
  eventsIncludeText?: boolean;
}

export type TwilioKeywordHandling = 'default' | 'advanced';

interface SettingsRow {
  practice_name: string;
  timezone: string;
  weekly_hours: WeeklyHours;
  holidays: unknown[];
  auto_reply_enabled: boolean;
  missed_call_text_back: boolean;
  office_line: string | null;
  emergency_line: string | null;
  address: string | null;
  twilio_keyword_handling?: string | null;
  events_include_text?: boolean;
  /** `zone_offsets` over OFFSETS_BEFORE_MS … OFFSETS_AFTER_MS around the fetch; NULL for a zone Postgres lacks. */
  zone_offsets?: unknown;
}

/** Used when even the default row is missing, so a call is still answered sensibly. */
export const DEFAULT_PRACTICE_SETTINGS: PracticeSettings = {
  practiceName: 'our office',
  timezone: 'America/New_York',
  weeklyHours: {
    mon: [['08:00', '17:00']],
    tue: [['08:00', '17:00']],
    wed: [['08:00', '17:00']],
    thu: [['08:00', '17:00']],
    fri: [['08:00', '17:00']],
    sat: [],
    sun: [],
  },
  holidays: [],
  autoReplyEnabled: true,
  missedCallTextBack: true,
  officeLine: null,
  emergencyLine: null,
  address: null,
  twilioKeywordHandling: 'default',
};

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; settings: Promise<PracticeSettings> }>();

/**
 * The settings for a provider and number: its own row, else the default row (provider 'any', number '*').
 * Cached per container for about a minute, so the hot path usually pays no database round trip for them.
 */
export function loadPracticeSettings(
  db: Queryable,
  provider: 'twilio' | 'voipms',
  number: string,
  now = Date.now(),
): Promise<PracticeSettings> {
  const key = `${provider}\u0000${number}`;
  const hit = cache.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.settings;
  const settings = fetchSettings(db, provider, number, now);
  cache.set(key, { at: now, settings });
  settings.catch(() => cache.delete(key));
  return settings;
}

/** Tests and operators changing settings drop the cache. */
export function clearPracticeSettingsCache(): void {
  cache.clear();
}

const HOUR_MS = 3_600_000;
/** The zone's offsets come with the settings for this window: deferred texts of the last days, openings ahead. */
const OFFSETS_BEFORE_MS = 2 * 24 * HOUR_MS;
const OFFSETS_AFTER_MS = 9 * 24 * HOUR_MS;

async function fetchSettings(
  db: Queryable,
  provider: string,
  number: string,
  now: number,
): Promise<PracticeSettings> {
  const until = Math.floor((now + OFFSETS_AFTER_MS) / HOUR_MS) * HOUR_MS;
  const { rows } = await db.query<SettingsRow>(
    `SELECT practice_name, timezone, weekly_hours, holidays, auto_reply_enabled, missed_call_text_back,
            office_line, emergency_line, address, twilio_keyword_handling, events_include_text,
            zone_offsets(timezone, $3, $4) AS zone_offsets
     FROM voip_settings
     WHERE (provider IN ($1, 'any') AND phone_number = $2) OR (provider = 'any' AND phone_number = '*')
     ORDER BY (phone_number = '*'), (provider = 'any')
     LIMIT 1`,
    [provider, number, new Date(now - OFFSETS_BEFORE_MS).toISOString(), new Date(until).toISOString()],
  );
  const row = rows[0];
  if (!row) return DEFAULT_PRACTICE_SETTINGS;
  // Office hours and reply texts then place local times without starting Intl (lib/practice/zone.ts).
  rememberZoneOffsets(row.timezone, row.zone_offsets, until);
  return {
    practiceName: row.practice_name,
    timezone: row.timezone,
    weeklyHours: row.weekly_hours,
    holidays: row.holidays,
    autoReplyEnabled: row.auto_reply_enabled,
    missedCallTextBack: row.missed_call_text_back,
    officeLine: row.office_line,
    emergencyLine: row.emergency_line,
    address: row.address,
    twilioKeywordHandling: row.twilio_keyword_handling === 'advanced' ? 'advanced' : 'default',
    eventsIncludeText: row.events_include_text === true,
  };
}
