import { describe, expect, it } from 'vitest';
import { maskPayload, maskPhone } from '../../../lib/http/mask.js';

describe('PHI masking', () => {
  it('keeps only the last two digits of a phone number', () => {
    expect(maskPhone('+14155550123')).toBe('+*********23');
    expect(maskPhone('5145551234')).toBe('********34');
  });

  it('replaces message text by its length and masks numbers anywhere in a payload', () => {
    const masked = maskPayload({
      fields: { Body: ['my tooth hurts, call 4155550199'], From: ['+14155550123'], MessageSid: ['SM123'] },
      query: { token: ['hunter2token'], to: ['5145550000'] },
      json: {
        cdr: [
          { callerid: '"Jane Roe" <5145551234>', destination: '5145550000', note: 'reach me at 4155550101' },
        ],
      },
    });
    const text = JSON.stringify(masked);
    for (const leak of [
      'tooth',
      '4155550199',
      '4155550123',
      'hunter2token',
      'Jane',
      '5145551234',
      '5145550000',
      '4155550101',
    ]) {
      expect(text).not.toContain(leak);
    }
    expect(masked).toMatchObject({
      fields: { Body: ['[31 chars]'], MessageSid: ['SM123'] },
      query: { token: ['[secret]'] },
    });
  });
});
