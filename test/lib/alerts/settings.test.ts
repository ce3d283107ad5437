import { describe, expect, it } from 'vitest';
import { quietUntil } from '../../../lib/alerts/settings.js';

/** Quiet hours hold non-urgent alerts until they end, in the office's zone, across midnight. */
describe('quietUntil', () => {
  const settings = { timezone: 'America/Toronto', quietHours: ['22:00', '07:00'] as [string, string] };

  it('holds an alert at 23:30 local until 07:00 local', () => {
    // 23:30 in Toronto (UTC-5 in December) is 04:30 UTC the next day
    expect(quietUntil(settings, new Date('2026-12-02T04:30:00Z'))?.toISOString()).toBe(
      '2026-12-02T12:00:00.000Z',
    );
  });

  it('holds one at 06:59 for a minute, and none at 07:00 or 21:59', () => {
    expect(quietUntil(settings, new Date('2026-12-02T11:59:00Z'))?.toISOString()).toBe(
      '2026-12-02T12:00:00.000Z',
    );
    expect(quietUntil(settings, new Date('2026-12-02T12:00:00Z'))).toBeNull();
    expect(quietUntil(settings, new Date('2026-12-03T02:59:00Z'))).toBeNull();
  });

  it('never holds an alert when it cannot read the settings', () => {
    expect(quietUntil({ ...settings, timezone: 'Nowhere/Land' }, new Date())).toBeNull();
    expect(quietUntil({ ...settings, quietHours: null }, new Date())).toBeNull();
  });
});
