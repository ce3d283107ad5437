import type { DomainEvent } from '../events/types.js';
import { type AlertSettings, localTime } from './settings.js';

/** The patient's own words (a text or a voicemail transcript), only for practices with detail level 'full'. */
export interface AlertContent {
  text?: string | null;
}

const str = (value: unknown): string => (typeof value === 'string' && value ? value : 'unknown number');

/** Texts carry at most this much of the patient's words, so an alert stays one or two segments. */
const MAX_QUOTE = 240;

/**
 * The alert text. Standard detail: who to call back, what happened and when; never the patient's words.
 * Emergencies ask for an OK, which stops the escalation.
 */
export function composeAlert(
  event: DomainEvent,
  settings: Pick<AlertSettings, 'practiceName' | 'timezone' | 'detail'>,
  content: AlertContent = {},
): string {
  const d = event.detail;
  const at = localTime(settings.timezone, new Date(event.time));
  const who = settings.practiceName;
  let text: string;
  switch (event.type) {
    case 'patient.emergency':
      text = `URGENT ${who}: possible emergency text from ${str(d.from)} at ${at}. Please call them back. Reply OK if you are handling it.`;
      break;
    case 'message.delivery_failed':
      text = `${who}: the ${d.intent === 'emergency' ? 'emergency reply' : 'text'} to ${str(d.to)} could not be delivered (${String(d.error_code ?? d.status)}) at ${at}. Please call them.`;
      break;
    case 'voicemail.received':
      text = `${who}: new voicemail from ${str(d.from)} at ${at}${d.duration_seconds ? ` (${d.duration_seconds}s)` : ''}.`;
      break;
    case 'voicemail.transcribed':
      text = `${who}: voicemail from ${str(d.from)} transcribed at ${at}.`;
      break;
    case 'call.missed':
      text = `${who}: missed call from ${str(d.from)} at ${at}.`;
      break;
    case 'sms.received':
      text = `${who}: new text from ${str(d.from)} at ${at}.`;
      break;
    case 'patient.opted_out':
      text = `${who}: ${str(d.phone_number)} opted out of texts at ${at}.`;
      break;
    case 'patient.opted_in':
      text = `${who}: ${str(d.phone_number)} opted back in to texts at ${at}.`;
      break;
    default:
      text = `${who}: ${event.type} at ${at}.`;
  }
  if (settings.detail === 'full' && content.text) {
    const words = content.text.length > MAX_QUOTE ? `${content.text.slice(0, MAX_QUOTE - 1)}…` : content.text;
    text += ` "${words}"`;
  }
  return text;
}
