import {
  classify,
  composeReply,
  type IntentRule,
  type OfficeSettings,
  officeStatus,
} from '../autoreply/index.js';
import { DEFAULT_PRACTICE_SETTINGS, type PracticeSettings } from '../practice/settings.js';

export interface ClassifiedLine {
  text: string;
  intent: string;
  /** The text the auto-reply would send, or null when none would be sent. */
  reply: string | null;
  language?: string;
  confidence?: number;
  evidence?: string[];
}

export interface ClassifyLineOptions {
  explain?: boolean;
  settings?: PracticeSettings;
  rules?: readonly IntentRule[];
  now?: Date;
}

/**
 * One line of `npm run cli -- classify`: intent and reply as the engine decides them for a patient who is not
 * opted out. For `opt_out` the reply is the one confirmation (VoIP.ms sends it; Twilio confirms by itself).
 */
export function classifyLine(text: string, options: ClassifyLineOptions = {}): ClassifiedLine {
  const settings = options.settings ?? DEFAULT_PRACTICE_SETTINGS;
  const result = classify(text, { rules: options.rules as IntentRule[] | undefined });
  const status = officeStatus(settings as unknown as OfficeSettings, options.now ?? new Date());
  const reply = composeReply(result.intent, result.language, {
    practiceName: settings.practiceName,
    officeLine: settings.officeLine,
    emergencyLine: settings.emergencyLine,
    address: settings.address,
    timezone: settings.timezone,
    status,
    rules: options.rules,
  });
  const line: ClassifiedLine = { text, intent: result.intent, reply: reply || null };
  if (options.explain) {
    line.language = result.language;
    line.confidence = Math.round(result.confidence * 100) / 100;
    line.evidence = result.evidence;
  }
  return line;
}
