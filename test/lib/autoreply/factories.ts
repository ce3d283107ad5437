import { readFileSync } from 'node:fs';
import type { IntentRule } from '../../../lib/autoreply/classifier.js';
import type { Intent } from '../../../lib/autoreply/lexicon.js';
import type { ReplyContext } from '../../../lib/autoreply/replies.js';
import { type OfficeSettings, officeStatus } from '../../../lib/practice/hours.js';

export interface LabelledMessage {
  text: string;
  intent: Intent;
}

/** Labelled messages from a JSON-lines file beside the tests. */
export function loadCorpus(name: string): LabelledMessage[] {
  const raw = readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
  return raw
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LabelledMessage);
}

export function intentRule(overrides: Partial<IntentRule> = {}): IntentRule {
  return {
    intent: 'appointment',
    language: 'en',
    keywords: [],
    phrases: [],
    priority: 600,
    enabled: true,
    responseText: 'Reply from the rule.',
    ...overrides,
  };
}

/** Weekdays 08:00-17:00 and Saturday mornings in New York, no holidays unless given. */
export function officeSettings(overrides: Partial<OfficeSettings> = {}): OfficeSettings {
  return {
    timezone: 'America/New_York',
    weeklyHours: {
      mon: [['08:00', '17:00']],
      tue: [['08:00', '17:00']],
      wed: [['08:00', '17:00']],
      thu: [['08:00', '17:00']],
      fri: [['08:00', '17:00']],
      sat: [['09:00', '13:00']],
      sun: [],
    },
    holidays: [],
    ...overrides,
  };
}

/** A practice with its name, lines and address set, in New York, at `now` (closed for a holiday when the status says so). */
export function replyContext(now: Date, overrides: Partial<ReplyContext> = {}): ReplyContext {
  const settings = officeSettings({ holidays: overrides.status?.isHoliday ? ['2025-06-10'] : [] });
  return {
    practiceName: 'Bright Smiles Dental',
    officeLine: '(555) 010-2000',
    emergencyLine: '(555) 010-9111',
    address: '12 Main St',
    timezone: settings.timezone,
    status: officeStatus(settings, now),
    ...overrides,
  };
}
