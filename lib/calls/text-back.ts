import type { PracticeSettings } from '../practice/settings.js';

/** The one text a caller we missed gets; no PHI, just a way back to us. */
export function missedCallText(settings: Pick<PracticeSettings, 'practiceName' | 'emergencyLine'>): string {
  const emergency = settings.emergencyLine
    ? ` If this is an emergency, please call ${settings.emergencyLine} or 911.`
    : ' If this is an emergency, please call 911.';
  return (
    `Sorry we missed your call at ${settings.practiceName}. Reply to this text and we will get back to you, ` +
    `or call us again during office hours.${emergency} Reply STOP to opt out.`
  );
}
