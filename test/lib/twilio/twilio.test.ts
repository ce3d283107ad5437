import fc from 'fast-check';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { describe, expect, it } from 'vitest';
import { isTwilioApiUrl } from '../../../lib/twilio/recording.js';
import { fallbackTwiml, messagingTwiml, spokenNumber, xmlSafe } from '../../../lib/twilio/twiml.js';
import { parseTwilioTimestamp } from '../../../lib/twilio/voice.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL } from '../../support/config.js';
import { parseXml, signedTwilioEvent } from '../../support/twilio.js';

describe('Twilio helpers', () => {
  it('the fixture factory signs any parameters exactly as Twilio does (validateRequest is the oracle)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,12}$/), fc.string({ maxLength: 40 })),
        fc.stringMatching(/^[a-z]{1,8}=[a-z0-9-]{0,10}$/),
        (params, query) => {
          const path = '/webhooks/twilio/voice/incoming';
          const event = signedTwilioEvent(path, params, { rawQuery: query });
          const url = `${TEST_BASE_URL}${path}?${query}`;
          expect(validateRequest(TEST_AUTH_TOKEN, event.headers['x-twilio-signature']!, url, params)).toBe(
            true,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reply text of any characters (XML-illegal ones dropped) survives TwiML escaping and parses back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }), (text) => {
        const root = parseXml(messagingTwiml(text));
        const expected = xmlSafe(text);
        expect(root.children.map((child) => [child.name, child.text])).toEqual(
          expected ? [['Message', expected]] : [],
        );
      }),
    );
    expect(messagingTwiml(null)).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it('reads numbers digit by digit', () => {
    expect(spokenNumber('+15085550199')).toBe('5 0 8, 5 5 5, 0 1 9 9');
    expect(spokenNumber('911')).toBe('9 1 1');
  });

  it('the fallback TwiML, built without configuration, still offers voicemail', () => {
    const root = parseXml(fallbackTwiml());
    expect(root.children.map((child) => child.name)).toEqual(['Say', 'Say', 'Record']);
    expect(root.children[2]!.attributes.action).toBe('incoming?step=voicemail-done');
  });

  it('accepts recording URLs only on the configured API origin', () => {
    const base = 'https://api.twilio.com';
    const resource = `/2010-04-01/Accounts/AC${'0'.repeat(32)}/Recordings/RE${'a'.repeat(32)}`;
    expect(isTwilioApiUrl(`https://api.twilio.com${resource}`, base)).toBe(true);
    // Only a recording resource, written exactly (test/lib/recordings/download-binding.test.ts has the rest).
    expect(isTwilioApiUrl('https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1', base)).toBe(false);
    expect(isTwilioApiUrl('https://api.twilio.com:443/x', base)).toBe(false);
    expect(isTwilioApiUrl(`https://api.twilio.com:8443${resource}`, base)).toBe(false);
    expect(isTwilioApiUrl('https://evil.example/x', base)).toBe(false);
    expect(isTwilioApiUrl('//api.twilio.com/x', base)).toBe(false);
  });

  it('parses RFC 2822 timestamps and ignores unreadable ones', () => {
    expect(parseTwilioTimestamp('Tue, 10 Mar 2026 14:03:01 +0000')?.toISOString()).toBe(
      '2026-03-10T14:03:01.000Z',
    );
    expect(parseTwilioTimestamp('yesterday')).toBeUndefined();
    expect(parseTwilioTimestamp(undefined)).toBeUndefined();
  });
});
