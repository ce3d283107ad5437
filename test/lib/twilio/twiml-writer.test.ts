import fc from 'fast-check';
import MessagingResponse from 'twilio/lib/twiml/MessagingResponse.js';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse.js';
import { describe, expect, it } from 'vitest';
import { xmlSafe } from '../../../lib/twilio/twiml.js';
import { TwimlResponse } from '../../../lib/twilio/twiml-writer.js';

// twilio's own builders are the oracle: the writer must produce exactly what they produce.
const VOICE = { voice: 'Polly.Joanna', language: 'en-US' } as const;
const text = fc.string({ unit: 'grapheme', maxLength: 80 }).map(xmlSafe);

describe('TwiML writer', () => {
  it('writes an empty response as Twilio does', () => {
    expect(new TwimlResponse().toString()).toBe(new MessagingResponse().toString());
  });

  it('writes a message with any text exactly as MessagingResponse does', () => {
    fc.assert(
      fc.property(text, (body) => {
        const ours = new TwimlResponse().message(body).toString();
        const theirs = new MessagingResponse();
        theirs.message(body);
        expect(ours).toBe(theirs.toString());
      }),
      { numRuns: 300 },
    );
  });

  it('writes say, dial with number, record and hangup exactly as VoiceResponse does', () => {
    fc.assert(
      fc.property(text, text, (greeting, url) => {
        const attributes = {
          action: `https://hooks.example.test/x?step=dial-result&u=${url}`,
          method: 'POST',
          timeout: 20,
          record: 'record-from-answer-dual',
          recordingStatusCallbackEvent: ['completed', 'absent'],
        };
        const ours = new TwimlResponse();
        ours.say(VOICE, greeting);
        ours.dial(attributes).number('+15005550006');
        ours.record({ maxLength: 180, playBeep: true, action: url });
        ours.hangup();

        const theirs = new VoiceResponse();
        theirs.say(VOICE, greeting);
        theirs.dial(attributes as never).number('+15005550006');
        theirs.record({ maxLength: 180, playBeep: true, action: url });
        theirs.hangup();
        expect(ours.toString()).toBe(theirs.toString());
      }),
      { numRuns: 200 },
    );
  });

  it('escapes markup in text and attributes', () => {
    const xml = new TwimlResponse().message('Tom & Jerry <3 "quotes"').toString();
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Tom &amp; Jerry &lt;3 "quotes"</Message></Response>',
    );
  });
});
