import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routePath } from '../../../lib/http/route-path.js';
import { wellFormed, wellFormedText } from '../../../lib/http/well-formed.js';
import { httpEvent } from '../../support/events.js';

const LONE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/i;

describe('well-formed text', () => {
  it('replaces every lone surrogate and nothing else (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (any, valid) => {
        const fixed = wellFormedText(any);
        expect(() => encodeURIComponent(fixed)).not.toThrow();
        expect(JSON.stringify(fixed)).not.toMatch(LONE_ESCAPE);
        expect(fixed.length).toBe(any.length);
        expect(wellFormedText(valid)).toBe(valid);
      }),
    );
  });

  it('reaches keys, nested values and arrays, and leaves other values alone', () => {
    const event = { 'k\ud800': ['\udc00x', { deep: 'a\ud83d' }], n: 1, b: true, z: null, emoji: '😀' };
    expect(wellFormed(event)).toEqual({
      'k\uFFFD': ['\uFFFDx', { deep: 'a\uFFFD' }],
      n: 1,
      b: true,
      z: null,
      emoji: '😀',
    });
  });
});

describe('well-formed values', () => {
  it('are handed back as they are, not copied', () => {
    const event = { a: ['x', { b: 'y', n: 1, z: null, t: true }], body: Buffer.from('hi'), emoji: '😀' };
    expect(wellFormed(event)).toBe(event);
    expect(wellFormed([])).toEqual([]);
  });

  it('are copied and mended wherever a lone surrogate hides: a key, a nested key, an array item, a deep value', () => {
    const hidden = [
      { 'k\ud800': 1 },
      { a: { 'k\udc00': 1 } },
      { a: ['ok', 'x\ud800'] },
      { a: [{ b: { c: 'x\udbff' } }] },
      ['ok', { a: '\udfff' }],
      'x\ud800',
    ];
    for (const value of hidden) {
      const mended = wellFormed(value);
      expect(mended, JSON.stringify(value)).not.toBe(value);
      expect(JSON.stringify(mended)).not.toMatch(LONE_ESCAPE);
      expect(JSON.stringify(mended)).toContain('\uFFFD');
    }
  });
});

describe('the route path', () => {
  it('strips a named stage only on the default execute-api endpoint', () => {
    const event = httpEvent({ path: '/prod/webhooks/twilio/sms/status' });
    event.requestContext.stage = 'prod';
    event.requestContext.domainName = 'abc123.execute-api.eu-west-1.amazonaws.com';
    expect(routePath(event)).toBe('/webhooks/twilio/sms/status');
    event.requestContext.domainName = 'hooks.example.com';
    expect(routePath(event)).toBe('/prod/webhooks/twilio/sms/status');
    event.requestContext.domainName = 'abc123.execute-api.eu-west-1.amazonaws.com';
    event.requestContext.stage = '$default';
    expect(routePath(event)).toBe('/prod/webhooks/twilio/sms/status');
  });
});
