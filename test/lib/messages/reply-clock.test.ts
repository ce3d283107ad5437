import { describe, expect, it } from 'vitest';
import type { IntentRule } from '../../../lib/autoreply/classifier.js';
import { decideAutoReply } from '../../../lib/messages/auto-reply.js';
import { DEFAULT_PRACTICE_SETTINGS, type PracticeSettings } from '../../../lib/practice/settings.js';

// Reply texts are worked out once a minute per settings object and rule set (lib/messages/auto-reply.ts): the
// same container must still answer by the clock and by the rules it holds now.
const settings: PracticeSettings = { ...DEFAULT_PRACTICE_SETTINGS, timezone: 'America/New_York' };

const hoursReply = (at: string, rules: readonly IntentRule[] = []) =>
  decideAutoReply({
    provider: 'voipms',
    text: 'What time do you open?',
    fromNumber: '+14155550123',
    toNumber: '+15005550006',
    settings,
    rules,
    now: new Date(at),
  }).subscribed.reply;

describe('a reply worked out once a minute', () => {
  it('follows the office clock: open a minute before closing, closed at closing, with the same settings', () => {
    // Monday 2026-03-02, New York (UTC-5): the default hours close at 17:00.
    const open = hoursReply('2026-03-02T21:59:30Z');
    const stillOpen = hoursReply('2026-03-02T21:59:59Z');
    const closed = hoursReply('2026-03-02T22:00:00Z');
    expect(open).toContain('We are open now until 5:00');
    expect(stillOpen).toBe(open);
    expect(closed).toContain('We are closed right now.');
  });

  it('follows the rules the container holds now', () => {
    const at = '2026-03-02T15:00:00Z';
    const rules: IntentRule[] = [
      {
        intent: 'hours',
        language: 'en',
        keywords: [],
        phrases: [],
        priority: 400,
        enabled: true,
        responseText: 'Open 8 to 5 on weekdays.',
      },
    ];
    expect(hoursReply(at)).toContain('We are open now');
    expect(hoursReply(at, rules)).toBe('Open 8 to 5 on weekdays.');
    expect(hoursReply(at)).toContain('We are open now');
  });
});
