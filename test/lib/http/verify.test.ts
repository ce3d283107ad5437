import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import { ForbiddenError } from '../../../lib/http/errors.js';
import { decodeRequest } from '../../../lib/http/request.js';
import { twilioSignature } from '../../../lib/http/twilio-signature.js';
import { voipmsCaller } from '../../../lib/http/verify.js';
import { testEnv } from '../../support/config.js';
import { httpEvent } from '../../support/events.js';
import { encodeForm } from '../../support/twilio.js';

// Twilio's published test vector (its own test suite).
const VECTOR = {
  token: '12345',
  params: {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675309',
    Digits: '1234',
    From: '+14158675309',
    To: '+18005551212',
  },
  signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
  signatureWithPort: 'kvajT1Ptam85bY51eRf/AJRuM3w=',
};

function vectorRequest(signature: string, { base64 = true, baseUrl = 'https://mycompany.com' } = {}) {
  const config = loadConfig({ ...testEnv(), TWILIO_AUTH_TOKEN: VECTOR.token, WEBHOOK_BASE_URL: baseUrl });
  const event = httpEvent({
    path: '/myapp.php',
    rawQuery: 'foo=1&bar=2',
    body: encodeForm(VECTOR.params),
    base64,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
  });
  return { config, request: decodeRequest(event, ['POST']) };
}

describe('Twilio signature', () => {
  it('accepts the published test vector, from a base64 body and from a plain one', () => {
    for (const base64 of [true, false]) {
      const { config, request } = vectorRequest(VECTOR.signature, { base64 });
      expect(() => twilioSignature(request, config)).not.toThrow();
    }
  });

  it('accepts the signature made over the URL with an explicit :443, and the base URL written with :443', () => {
    const withPort = vectorRequest(VECTOR.signatureWithPort);
    expect(() => twilioSignature(withPort.request, withPort.config)).not.toThrow();
    const baseWithPort = vectorRequest(VECTOR.signature, { baseUrl: 'https://mycompany.com:443' });
    expect(() => twilioSignature(baseWithPort.request, baseWithPort.config)).not.toThrow();
  });

  it('refuses a signature for another URL, another token, or a missing one', () => {
    const other = vectorRequest(VECTOR.signature, { baseUrl: 'https://mycompany.org' });
    expect(() => twilioSignature(other.request, other.config)).toThrow(ForbiddenError);
    const tokenless = vectorRequest(VECTOR.signature);
    tokenless.config.twilio.authToken = 'another';
    expect(() => twilioSignature(tokenless.request, tokenless.config)).toThrow('invalid X-Twilio-Signature');
    const missing = vectorRequest('');
    expect(() => twilioSignature(missing.request, missing.config)).toThrow('missing X-Twilio-Signature');
  });

  it('signs blank values and repeated keys as Twilio does', () => {
    const config = loadConfig(testEnv());
    const params = { Body: '', MediaUrl0: 'https://api.twilio.com/a', Tag: ['b', 'a'] };
    const url = `${config.webhookBaseUrl}/webhooks/twilio/sms/incoming`;
    const signature = getExpectedTwilioSignature(config.twilio.authToken!, url, params);
    const event = httpEvent({
      path: '/webhooks/twilio/sms/incoming',
      body: encodeForm(params),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    });
    const request = decodeRequest(event, ['POST']);
    expect(request.fields).toEqual({ Body: [''], MediaUrl0: ['https://api.twilio.com/a'], Tag: ['b', 'a'] });
    expect(() => twilioSignature(request, config)).not.toThrow();
    // Dropping the blank value changes what was signed.
    const stripped = decodeRequest(
      { ...event, body: Buffer.from(encodeForm({ ...params, Body: [] })).toString('base64') },
      ['POST'],
    );
    expect(() => twilioSignature(stripped, config)).toThrow(ForbiddenError);
  });
});

describe('VoIP.ms caller check', () => {
  const config = loadConfig(testEnv());
  const request = (sourceIp: string, rawQuery: string, headers: Record<string, string> = {}) =>
    decodeRequest(
      httpEvent({ method: 'GET', path: '/webhooks/voipms/sms/incoming', rawQuery, sourceIp, headers }),
      ['GET'],
    );
  const token = `token=${encodeURIComponent(testEnv().VOIPMS_WEBHOOK_TOKEN!)}`;

  it.each([
    ['an IPv4 inside an allowed CIDR', '203.0.113.77'],
    ['an exact allowed IPv4', '198.51.100.7'],
    ['an IPv6 inside an allowed range', '2001:db8:1::5'],
    ['an IPv4-mapped IPv6 form of an allowed address', '::ffff:198.51.100.7'],
  ])('allows %s with the right token', (_, ip) => {
    expect(() => voipmsCaller(request(ip, token), config)).not.toThrow();
  });

  it.each([
    ['a neighbour outside the CIDR', '203.0.114.1'],
    ['an IPv6 outside the range', '2001:db9::1'],
    ['no address at all', ''],
    ['garbage', 'not-an-ip'],
  ])('refuses %s', (_, ip) => {
    expect(() => voipmsCaller(request(ip, token), config)).toThrow('source IP not allowed');
  });

  it('ignores a spoofed X-Forwarded-For naming an allowed address', () => {
    const spoofed = request('192.0.2.99', token, {
      'X-Forwarded-For': '198.51.100.7',
      'X-Real-IP': '198.51.100.7',
    });
    expect(() => voipmsCaller(spoofed, config)).toThrow('source IP not allowed');
  });

  it('refuses a wrong, empty or missing token from an allowed address', () => {
    for (const query of ['token=wrong', 'token=', '', `${token}x`]) {
      expect(() => voipmsCaller(request('198.51.100.7', query), config)).toThrow('invalid token');
    }
  });
});

describe('secret rotation', () => {
  it('accepts the previous Twilio auth token and VoIP.ms token while a rotation is under way', () => {
    const rotating = loadConfig({
      ...testEnv(),
      TWILIO_AUTH_TOKEN: 'new-token',
      TWILIO_AUTH_TOKEN_PREVIOUS: VECTOR.token,
      WEBHOOK_BASE_URL: 'https://mycompany.com',
      VOIPMS_WEBHOOK_TOKEN: 'new',
      VOIPMS_WEBHOOK_TOKEN_PREVIOUS: 'old',
    });
    const { request } = vectorRequest(VECTOR.signature);
    expect(() => twilioSignature(request, rotating)).not.toThrow();
    const voipms = (token: string) =>
      decodeRequest(
        httpEvent({
          method: 'GET',
          path: '/webhooks/voipms/sms/incoming',
          rawQuery: `token=${token}`,
          sourceIp: '198.51.100.7',
        }),
        ['GET'],
      );
    expect(() => voipmsCaller(voipms('old'), rotating)).not.toThrow();
    expect(() => voipmsCaller(voipms('new'), rotating)).not.toThrow();
    expect(() => voipmsCaller(voipms('older'), rotating)).toThrow('invalid token');
  });
});

describe('a caller check with no secret configured', () => {
  it('refuses every Twilio request, saying the token is missing, even one signed with an empty token', () => {
    const { request } = vectorRequest(VECTOR.signature);
    const config = loadConfig({ ...testEnv(), TWILIO_AUTH_TOKEN: undefined } as unknown as Record<
      string,
      string
    >);
    expect(() => twilioSignature(request, config)).toThrow(
      new ForbiddenError('Twilio auth token not configured'),
    );
  });

  it('refuses every VoIP.ms request, saying the token is missing, even from an allowed address', () => {
    const config = loadConfig({ ...testEnv(), VOIPMS_WEBHOOK_TOKEN: undefined } as unknown as Record<
      string,
      string
    >);
    const event = httpEvent({ path: '/p', rawQuery: 'token=', method: 'GET', sourceIp: '198.51.100.7' });
    expect(() => voipmsCaller(decodeRequest(event, ['GET']), config)).toThrow(
      new ForbiddenError('VoIP.ms webhook token not configured'),
    );
  });
});
