// Temporary keyword stand-in for lib/autoreply's classify() and composeReply(), which are being written
// alongside; deleted once they land. Only whole-message opt keywords and a few plain words.
import type { PracticeSettings } from '../practice/settings.js';

export type StubIntent =
  | 'appointment'
  | 'emergency'
  | 'hours'
  | 'location'
  | 'insurance'
  | 'opt_out'
  | 'opt_in'
  | 'help'
  | 'default';

const WHOLE: Record<string, StubIntent> = {
  stop: 'opt_out',
  stopall: 'opt_out',
  unsubscribe: 'opt_out',
  cancel: 'opt_out',
  end: 'opt_out',
  quit: 'opt_out',
  revoke: 'opt_out',
  optout: 'opt_out',
  start: 'opt_in',
  unstop: 'opt_in',
  help: 'help',
  info: 'help',
};
const WORDS: [RegExp, StubIntent][] = [
  [/\b(emergency|bleeding|swollen|swelling|severe pain)\b/, 'emergency'],
  [/\b(appointment|appt|book|schedule|reschedule)\b/, 'appointment'],
  [/\b(hours|open|close|closed)\b/, 'hours'],
  [/\b(address|where|location|directions|parking)\b/, 'location'],
  [/\b(insurance|coverage|covered)\b/, 'insurance'],
];

export function classifyStub(text: string): { intent: StubIntent; language: 'en' | 'es' } {
  const lower = text.trim().toLowerCase();
  const whole = WHOLE[lower.replace(/[^a-z]/g, '')];
  if (whole) return { intent: whole, language: 'en' };
  for (const [pattern, intent] of WORDS) if (pattern.test(lower)) return { intent, language: 'en' };
  return { intent: 'default', language: 'en' };
}

export function composeStub(intent: StubIntent, practice: PracticeSettings): string | null {
  const name = practice.practiceName;
  const phone = practice.officeLine ? ` at ${practice.officeLine}` : '';
  switch (intent) {
    case 'opt_out':
    case 'opt_in':
      return null;
    case 'emergency':
      return `If this is an emergency, please call ${practice.emergencyLine ?? '911'} right away.`;
    case 'help':
      return `${name}: call us${phone}. Reply STOP to opt out.`;
    case 'hours':
      return `Thanks for texting ${name}. Our office hours are Monday to Friday, 8am to 5pm.`;
    case 'location':
      return `${name} is at ${practice.address ?? 'our office'}.`;
    default:
      return `Thanks for texting ${name}! We got your message and will reply during office hours.`;
  }
}
