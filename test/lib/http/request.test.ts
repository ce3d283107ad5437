import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError, MethodNotAllowedError, PayloadTooLargeError } from '../../../lib/http/errors.js';
import { decodeRequest, MAX_BODY_BYTES } from '../../../lib/http/request.js';
import { httpEvent } from '../../support/events.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('decodeRequest', () => {
  it('decodes base64 and plain bodies alike, keeping blank values and repeated keys', () => {
    for (const base64 of [true, false]) {
      const request = decodeRequest(
        httpEvent({ path: '/x', body: 'a=1&b=&a=2&c=%C3%B1', headers: form, base64 }),
        ['POST'],
      );
      expect(request.fields).toEqual({ a: ['1', '2'], b: [''], c: ['ñ'] });
    }
  });

  it('lower-cases header names and reads the source IP from the request context', () => {
    const request = decodeRequest(
      httpEvent({ path: '/x', headers: { 'X-Twilio-Signature': 's' }, sourceIp: '2001:db8::1' }),
      ['POST'],
    );
    expect(request.headers['x-twilio-signature']).toBe('s');
    expect(request.sourceIp).toBe('2001:db8::1');
  });

  it('parses query strings and JSON bodies', () => {
    const request = decodeRequest(
      httpEvent({
        path: '/x',
        rawQuery: 'token=t&to=5145550000',
        body: '{"from":"5145551234","id":12,"nested":{"a":1}}',
        headers: { 'content-type': 'application/json' },
        base64: false,
      }),
      ['POST'],
    );
    expect(request.query).toEqual({ token: ['t'], to: ['5145550000'] });
    expect(request.fields).toEqual({ from: ['5145551234'], id: ['12'] });
    expect(request.json).toEqual({ from: '5145551234', id: 12, nested: { a: 1 } });
  });

  it('answers 405 for a method the route does not take', () => {
    expect(() => decodeRequest(httpEvent({ method: 'PUT', path: '/x' }), ['GET', 'POST'])).toThrow(
      MethodNotAllowedError,
    );
  });

  it('answers 413 above 64 KiB, base64 or not, and accepts exactly 64 KiB', () => {
    const big = `a=${'x'.repeat(MAX_BODY_BYTES)}`;
    expect(() => decodeRequest(httpEvent({ path: '/x', body: big, headers: form }), ['POST'])).toThrow(
      PayloadTooLargeError,
    );
    expect(() =>
      decodeRequest(httpEvent({ path: '/x', body: big, headers: form, base64: false }), ['POST']),
    ).toThrow(PayloadTooLargeError);
    const exact = `a=${'x'.repeat(MAX_BODY_BYTES - 2)}`;
    expect(
      decodeRequest(httpEvent({ path: '/x', body: exact, headers: form }), ['POST']).fields.a![0],
    ).toHaveLength(MAX_BODY_BYTES - 2);
  });

  it('answers 400 for malformed JSON, invalid UTF-8 and unsupported content types', () => {
    const json = { 'content-type': 'application/json' };
    expect(() => decodeRequest(httpEvent({ path: '/x', body: '{"a":', headers: json }), ['POST'])).toThrow(
      BadRequestError,
    );
    const invalidUtf8 = {
      ...httpEvent({ path: '/x', headers: form }),
      body: Buffer.from([0x61, 0x3d, 0xff, 0xfe]).toString('base64'),
      isBase64Encoded: true,
    };
    expect(() => decodeRequest(invalidUtf8, ['POST'])).toThrow('not valid UTF-8');
    expect(() =>
      decodeRequest(httpEvent({ path: '/x', body: 'a', headers: { 'content-type': 'image/png' } }), ['POST']),
    ).toThrow('unsupported content type');
  });

  it('throws nothing but refusals for any body, content type and encoding', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          '',
          'text/plain',
          'multipart/form-data',
        ),
        fc.boolean(),
        (body, contentType, base64) => {
          try {
            decodeRequest(httpEvent({ path: '/x', body, headers: { 'content-type': contentType }, base64 }), [
              'POST',
            ]);
          } catch (error) {
            expect(error).toBeInstanceOf(BadRequestError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('NUL characters', () => {
  it.each([
    ['a form field', { body: 'Body=a%00b', headers: form }],
    ['a query parameter', { rawQuery: 'to=1%002', headers: form }],
    ['a JSON string', { body: '{"message":"a\\u0000b"}', headers: { 'content-type': 'application/json' } }],
  ])('refuses %s holding NUL with a 400', (_, options) => {
    expect(() => decodeRequest(httpEvent({ path: '/x', ...options }), ['POST'])).toThrow('NUL character');
  });
});
