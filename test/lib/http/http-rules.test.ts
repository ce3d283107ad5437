// The middleware's rules, one per test, on its small parts: refusal shapes, path binding, the Twilio request
// shape, body decoding and size limits, what a refused request leaves in the log, and the sealed request.
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ForbiddenError,
  HttpError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  ServiceUnavailableError,
} from '../../../lib/http/errors.js';
import { IpAllowList, ipv6Groups } from '../../../lib/http/ip-allowlist.js';
import { maskPayload, maskPhone } from '../../../lib/http/mask.js';
import { budgetKey, REFUSED_EXCERPT_CHARS, refusedPayload } from '../../../lib/http/refusal-log.js';
import { decodeRequest, first, firstValues, MAX_BODY_BYTES, parseParams } from '../../../lib/http/request.js';
import { json, noContent, plainText, refusal, twiml } from '../../../lib/http/responses.js';
import { checkRoutePath, NotFoundError, routePath } from '../../../lib/http/route-path.js';
import { openRequest, parseReplayKey, sealRequest } from '../../../lib/http/sealed-request.js';
import { checkTwilioShape, twilioQueryParameters } from '../../../lib/http/twilio-shape.js';
import { safeEqual } from '../../../lib/http/verify.js';
import { wellFormed } from '../../../lib/http/well-formed.js';
import { httpEvent } from '../../support/events.js';

const thrown = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('refusals', () => {
  it('every refusal of what the caller sent is a 4xx with its own name', () => {
    const errors = [
      [new BadRequestError('x'), 400, 'BadRequestError'],
      [new ForbiddenError('x'), 403, 'ForbiddenError'],
      [new NotFoundError('x'), 404, 'NotFoundError'],
      [new MethodNotAllowedError('PUT', ['POST']), 405, 'MethodNotAllowedError'],
      [new PayloadTooLargeError(10), 413, 'PayloadTooLargeError'],
    ] as const;
    for (const [error, status, name] of errors) {
      expect(error).toBeInstanceOf(HttpError);
      expect([error.statusCode, error.name]).toEqual([status, name]);
    }
    expect(new ServiceUnavailableError('later')).toMatchObject({
      statusCode: 503,
      name: 'ServiceUnavailableError',
    });
    expect(new HttpError(418, 'x').name).toBe('HttpError');
  });

  it('answers 400 as JSON, 403 as plain text, 405 with the methods allowed', () => {
    expect(refusal(new BadRequestError('from is required'))).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"from is required"}',
    });
    expect(refusal(new ForbiddenError('invalid token'))).toEqual({
      statusCode: 403,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'invalid token',
    });
    expect(refusal(new MethodNotAllowedError('PUT', ['GET', 'POST']))).toEqual({
      statusCode: 405,
      headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, POST' },
      body: 'method PUT not allowed',
    });
    expect(refusal(new PayloadTooLargeError(65536)).body).toBe('body larger than 65536 bytes');
  });

  it('answers TwiML as XML, nothing as 204, text and JSON with their types', () => {
    expect(twiml('<Response/>')).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: '<Response/>',
    });
    expect(noContent()).toEqual({ statusCode: 204, body: '' });
    expect(plainText('ok')).toMatchObject({ statusCode: 200, body: 'ok' });
    expect(json({ accepted: 2 }, 202)).toMatchObject({ statusCode: 202, body: '{"accepted":2}' });
    expect(json({})).toMatchObject({ statusCode: 200 });
  });
});

describe('route paths', () => {
  const event = (rawPath: string, stage: string, domainName: string) => ({
    ...httpEvent({ path: rawPath }),
    requestContext: { ...httpEvent({ path: rawPath }).requestContext, stage, domainName },
  });

  it('strips a named stage only on the default execute-api endpoint, and only as a whole segment', () => {
    const api = 'abc123.execute-api.ca-central-1.amazonaws.com';
    expect(routePath(event('/prod/webhooks/x', 'prod', api))).toBe('/webhooks/x');
    expect(routePath(event('/prod/webhooks/x', 'prod', 'hooks.example.com'))).toBe('/prod/webhooks/x');
    expect(routePath(event('/production/webhooks/x', 'prod', api))).toBe('/production/webhooks/x');
    expect(routePath(event('/webhooks/x', '$default', api))).toBe('/webhooks/x');
    expect(routePath(event('/prod/webhooks/x', 'prod', `${api}.evil.example`))).toBe('/prod/webhooks/x');
    expect(routePath({ ...event('/a', '', api), rawPath: undefined } as never)).toBe('/a');
  });

  it.each([
    '/webhooks/%2e%2e/x',
    '/webhooks/a%2Fb',
    '/webhooks/a%5cb',
    '/webhooks\\x',
    '/webhooks/./x',
    '/webhooks/../x',
    '/webhooks/x/.',
    '/webhooks/x/..',
    '/webhooks//x',
  ])('refuses %s with 400 whatever the route, before comparing it', (path) => {
    expect(thrown(() => checkRoutePath(path, path))).toBeInstanceOf(BadRequestError);
  });

  it('answers 404 for a clean path that is not the route, and accepts the route itself', () => {
    expect(
      thrown(() => checkRoutePath('/webhooks/twilio/sms/status/', '/webhooks/twilio/sms/status')),
    ).toBeInstanceOf(NotFoundError);
    expect(thrown(() => checkRoutePath('/webhooks/a.b', '/webhooks/a.b'))).toBeUndefined();
    expect(thrown(() => checkRoutePath('/webhooks/x...', '/webhooks/x...'))).toBeUndefined();
  });
});

describe('the Twilio request shape', () => {
  const request = (options: { body?: string; rawQuery?: string; contentType?: string }) =>
    decodeRequest(
      httpEvent({
        path: '/webhooks/twilio/sms/status',
        body: options.body,
        rawQuery: options.rawQuery ?? '',
        headers: options.contentType === undefined ? {} : { 'content-type': options.contentType },
      }),
      ['POST'],
    );
  const refusedWith = (route: string, req: ReturnType<typeof request>) =>
    (thrown(() => checkTwilioShape(route, req)) as Error | undefined)?.message;

  it('takes a form body with or without a charset, and an empty body of any type', () => {
    const form = 'application/x-www-form-urlencoded';
    expect(
      refusedWith('twilio/sms/status', request({ body: 'a=1', contentType: `${form}; charset=UTF-8` })),
    ).toBe(undefined);
    expect(
      refusedWith(
        'twilio/sms/status',
        request({ body: 'a=1', contentType: ' Application/X-WWW-Form-Urlencoded ' }),
      ),
    ).toBe(undefined);
    expect(refusedWith('twilio/sms/status', request({ contentType: 'application/json' }))).toBe(undefined);
    expect(refusedWith('twilio/sms/status', request({ body: 'a=1', contentType: 'text/plain' }))).toBe(
      'Twilio routes accept form bodies only',
    );
    expect(refusedWith('twilio/sms/status', request({ body: 'a=1' }))).toBe(
      'Twilio routes accept form bodies only',
    );
  });

  it('takes only the query parameters our own URLs carry, once, well formed, and not also in the body', () => {
    const form = 'application/x-www-form-urlencoded';
    const sid = `SM${'a'.repeat(32)}`;
    expect(refusedWith('twilio/sms/status', request({ rawQuery: `reply=${sid}` }))).toBe(undefined);
    expect(refusedWith('twilio/sms/status', request({ rawQuery: `reply=${sid}&reply=${sid}` }))).toBe(
      'query parameter reply repeated',
    );
    expect(refusedWith('twilio/sms/status', request({ rawQuery: 'reply=SM1' }))).toBe(
      'query parameter reply malformed',
    );
    expect(
      refusedWith(
        'twilio/sms/status',
        request({ rawQuery: `reply=${sid}`, body: `reply=${sid}`, contentType: form }),
      ),
    ).toBe('reply is both in the query and the body');
    expect(refusedWith('twilio/sms/incoming', request({ rawQuery: `reply=${sid}` }))).toBe(
      'query parameter reply not allowed',
    );
    expect(refusedWith('twilio/voice/incoming', request({ rawQuery: 'step=dial-result' }))).toBe(undefined);
    expect(refusedWith('twilio/voice/incoming', request({ rawQuery: 'step=dial-results' }))).toBe(
      'query parameter step malformed',
    );
    expect(refusedWith('twilio/sms/status', request({ body: 'To=1&To=2', contentType: form }))).toBe(
      'field To repeated',
    );
    expect(refusedWith('twilio/sms/status', request({ rawQuery: `${'k'.repeat(60)}=1` }))).toBe(
      `query parameter ${'k'.repeat(40)} not allowed`,
    );
  });

  it('lists the query parameters each route takes', () => {
    expect(twilioQueryParameters('twilio/voice/incoming')).toEqual(['step']);
    expect(twilioQueryParameters('twilio/sms/status')).toEqual(['reply']);
    expect(twilioQueryParameters('twilio/sms/incoming')).toEqual([]);
  });
});

describe('decoding a request', () => {
  const decode = (options: Parameters<typeof httpEvent>[0], methods: string[] = ['GET', 'POST']) =>
    decodeRequest(httpEvent(options), methods);

  it('keeps every value of a parameter, blanks included, and reads the first when one is wanted', () => {
    const params = parseParams('a=1&b=&a=2&c');
    expect(params).toEqual({ a: ['1', '2'], b: [''], c: [''] });
    expect(first(params, 'a')).toBe('1');
    expect(first(params, 'z')).toBeUndefined();
    expect(firstValues(params)).toEqual({ a: '1', b: '', c: '' });
    expect(Object.getPrototypeOf(parseParams('__proto__=x'))).toBeNull();
  });

  it('reads a method given in lower case, and a missing one as GET', () => {
    const event = httpEvent({ path: '/p', method: 'post' });
    expect(decodeRequest(event, ['POST']).method).toBe('POST');
    const noMethod = { ...event, requestContext: { ...event.requestContext, http: undefined } } as never;
    expect(decodeRequest(noMethod, ['GET']).method).toBe('GET');
    const noMethodInHttp = { ...event, requestContext: { ...event.requestContext, http: {} } } as never;
    expect(decodeRequest(noMethodInHttp, ['GET']).method).toBe('GET');
    expect(thrown(() => decodeRequest(noMethod, ['POST']))).toBeInstanceOf(MethodNotAllowedError);
  });

  it('reads a body of text/plain as a form, a JSON body without a type as JSON, and blank bodies as empty', () => {
    expect(decode({ path: '/p', body: 'a=1', headers: { 'content-type': 'text/plain' } }).fields).toEqual({
      a: ['1'],
    });
    expect(decode({ path: '/p', body: '  {"a": 1}' }).json).toEqual({ a: 1 });
    expect(decode({ path: '/p', body: 'a=1' }).fields).toEqual({ a: ['1'] });
    const blank = decode({ path: '/p', body: '   ', headers: { 'content-type': 'application/json' } });
    expect([blank.fields, blank.json]).toEqual([{}, undefined]);
    expect(
      decode({ path: '/p', body: '[1]', headers: { 'content-type': 'application/json' } }).fields,
    ).toEqual({});
  });

  it('takes the top-level scalar fields of a JSON object, as text, and leaves nested values and nulls to json', () => {
    const request = decode({
      path: '/p',
      body: JSON.stringify({ n: 5, t: true, s: 'x', o: { a: 1 }, l: [1], z: null }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(request.fields).toEqual({ n: ['5'], t: ['true'], s: ['x'] });
  });

  it('refuses a body type it cannot read, and reads the body types providers send', () => {
    expect(
      thrown(() => decode({ path: '/p', body: 'a', headers: { 'content-type': 'text/html' } })),
    ).toBeInstanceOf(BadRequestError);
    expect(
      thrown(() => decode({ path: '/p', body: 'a', headers: { 'content-type': 'multipart/form-data' } })),
    ).toBeInstanceOf(BadRequestError);
  });

  it('holds a body to 64 KiB decoded, whichever way it is encoded', () => {
    const exact = 'a='.padEnd(MAX_BODY_BYTES, 'x');
    expect(decode({ path: '/p', body: exact, base64: false }).rawBody.length).toBe(MAX_BODY_BYTES);
    expect(decode({ path: '/p', body: exact, base64: true }).rawBody.length).toBe(MAX_BODY_BYTES);
    for (const base64 of [true, false]) {
      expect(thrown(() => decode({ path: '/p', body: `${exact}x`, base64 }))).toBeInstanceOf(
        PayloadTooLargeError,
      );
    }
    const accents = 'a='.padEnd(MAX_BODY_BYTES / 2 + 2, 'é');
    expect(thrown(() => decode({ path: '/p', body: accents, base64: false }))).toBeInstanceOf(
      PayloadTooLargeError,
    );
  });

  it('keeps header values as sent, names lower-cased, and drops headers without a value', () => {
    const event = httpEvent({ path: '/p', headers: { 'X-Twilio-Signature': 'AbC=' } });
    const request = decodeRequest({ ...event, headers: { ...event.headers, 'X-Gone': undefined } } as never, [
      'POST',
    ]);
    expect(request.headers['x-twilio-signature']).toBe('AbC=');
    expect('x-gone' in request.headers).toBe(false);
  });
});

describe('what a refused request leaves in the log', () => {
  it('keeps sizes, a hash and a short masked excerpt, never the body', () => {
    const body = `From=%2B15145550123&Body=${'secret+words+'.repeat(40)}`;
    const event = httpEvent({ path: '/webhooks/twilio/sms/incoming', body, base64: false, rawQuery: 'a=1' });
    const request = decodeRequest(event, ['POST']);
    const payload = refusedPayload(event, request) as Record<string, unknown>;
    expect(payload).toMatchObject({ refused: true, bodyBytes: body.length, queryBytes: 3 });
    expect(payload.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(payload)).not.toContain('secret');
    expect(JSON.stringify(payload)).not.toContain('5145550123');
  });

  it('cuts the excerpt at 240 characters and marks the cut; a shorter one is kept whole', () => {
    const long = httpEvent({
      path: '/p',
      rawQuery: Array.from({ length: 40 }, (_, i) => `k${i}=v`).join('&'),
    });
    const short = httpEvent({ path: '/p', rawQuery: 'a=b' });
    const excerpt = (event: ReturnType<typeof httpEvent>) =>
      (refusedPayload(event, decodeRequest(event, ['POST'])) as { excerpt: string }).excerpt;
    expect(excerpt(long)).toHaveLength(REFUSED_EXCERPT_CHARS + 1);
    expect(excerpt(long).endsWith('…')).toBe(true);
    expect(excerpt(short)).toBe('{"query":{"a":["[1 chars]"]},"fields":{}}');
    expect((refusedPayload(short, undefined) as { excerpt: string }).excerpt).toBe('');
  });

  it('spends an IPv4 source budget per address, an IPv6 one per /64, a mapped IPv4 one as IPv4', () => {
    expect(budgetKey('203.0.113.7')).toBe('203.0.113.7');
    expect(budgetKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(budgetKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(budgetKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(budgetKey('::1')).toBe('0:0:0:0::/64');
    expect(budgetKey('not an ip')).toBe('unknown');
    expect(budgetKey(undefined)).toBe('unknown');
    expect(budgetKey(null)).toBe('unknown');
  });
});

describe('masking', () => {
  it('keeps a short number as it is, and masks from five digits keeping the last two', () => {
    expect(maskPhone('1234')).toBe('1234');
    expect(maskPhone('12345')).toBe('***45');
    expect(maskPhone('+1 514')).toBe('+1 514');
  });

  it('keeps a safe-named JSON number only when small, and any other JSON number masked', () => {
    expect(maskPayload({ NumMedia: 2, price: -0.0075, Seconds: 1234567, Body: 5 })).toEqual({
      NumMedia: 2,
      price: -0.0075,
      Seconds: '[number]',
      Body: '[number]',
    });
    expect(maskPayload(12n, 'numsegments')).toBe(12n);
  });

  it('leaves empty values, booleans and nulls as they are', () => {
    expect(maskPayload({ Body: '', flag: true, none: null })).toEqual({ Body: '', flag: true, none: null });
  });

  it('keeps media content types, and masks anything else under that name', () => {
    expect(
      maskPayload({
        MediaContentType0: 'image/jpeg',
        MediaContentType12: 'text/plain',
        MediaContentType123: 'image/png',
      }),
    ).toEqual({
      MediaContentType0: 'image/jpeg',
      MediaContentType12: 'text/plain',
      MediaContentType123: '[9 chars]',
    });
    expect(maskPayload({ MediaContentType0: 'call 5145550123' })).toEqual({
      MediaContentType0: '[15 chars]',
    });
  });

  it('masks a secret whatever its value, and a phone-shaped value only with five digits in a row', () => {
    expect(maskPayload({ api_password: '', AuthToken: 'x', clientSecret: 'y' })).toEqual({
      api_password: '[secret]',
      AuthToken: '[secret]',
      clientSecret: '[secret]',
    });
    expect(maskPayload({ note: '12-34-56-78' })).toEqual({ note: '******78' });
    expect(maskPayload({ note: '1 2 3 4 5 6 7' })).toEqual({ note: '*****67' });
    expect(maskPayload({ note: '12.34' })).toEqual({ note: '[5 chars]' });
  });

  it('counts characters, not UTF-16 units, when it gives a length', () => {
    expect(maskPayload({ Body: '🦷ñ' })).toEqual({ Body: '[2 chars]' });
  });
});

describe('callers and keys', () => {
  it('compares secrets exactly', () => {
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'token ')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('allows no caller without a readable address', () => {
    const list = IpAllowList.parse('203.0.113.0/24, 2001:db8::/32');
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('')).toBe(false);
    expect(list.allows('203.0.113.9')).toBe(true);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(IpAllowList.parse(' , 203.0.113.1 ,').size).toBe(1);
  });

  it('names every bad entry of an allow-list at once', () => {
    expect(() => IpAllowList.parse('bad1, 203.0.113.1, bad2')).toThrow(
      '"bad1" is not an IP address or CIDR range; "bad2" is',
    );
  });

  it('reads IPv6 groups however the address is written', () => {
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('accepts a prefix at exactly the broadest allowed, and not one bit broader', () => {
    expect(IpAllowList.parse('10.1.0.0/16').size).toBe(1);
    expect(() => IpAllowList.parse('10.0.0.0/15')).toThrow(/broader than \/16/);
    expect(IpAllowList.parse('2001:db8::/32').size).toBe(1);
    expect(() => IpAllowList.parse('2001:db8::/31')).toThrow(/broader than \/32/);
    expect(IpAllowList.parse('::ffff:10.1.0.0/112').size).toBe(1);
    expect(() => IpAllowList.parse('::ffff:10.0.0.0/111')).toThrow(/broader than \/112/);
    expect(IpAllowList.parse('1.2.3.4/32').size).toBe(1);
    expect(IpAllowList.parse('2001:db8::1/128').size).toBe(1);
    expect(() => IpAllowList.parse('2001:db8::1/129')).toThrow(/longer than \/128/);
  });
});

describe('the sealed request', () => {
  const key = Buffer.alloc(32, 7);

  it('opens to the same request, and not under another key', () => {
    const event = httpEvent({
      path: '/webhooks/voipms/sms/incoming',
      method: 'GET',
      rawQuery: 'token=t&id=1',
    });
    const sealed = sealRequest(event, key);
    const opened = openRequest(sealed, key);
    expect(opened).toMatchObject({
      rawPath: event.rawPath,
      rawQueryString: 'token=t&id=1',
      headers: event.headers,
      isBase64Encoded: false,
      routeKey: 'GET /webhooks/voipms/sms/incoming',
    });
    expect(opened.requestContext).toMatchObject({
      http: event.requestContext.http,
      stage: '$default',
      domainName: 'hooks.example.test',
    });
    expect(sealed.toString('utf8')).not.toContain('token=t');
    expect(() => openRequest(sealed, Buffer.alloc(32, 8))).toThrow();
  });

  it('opens to an event the routes read as it arrived: body, stage and domain kept, the rest marked replay', () => {
    const event = httpEvent({ path: '/prod/webhooks/twilio/sms/status', body: 'MessageStatus=sent' });
    event.requestContext.stage = 'prod';
    event.requestContext.domainName = 'abc123.execute-api.us-east-1.amazonaws.com';
    const before = Date.now();
    const opened = openRequest(sealRequest(event, key), key);
    expect(opened).toEqual({
      version: '2.0',
      routeKey: 'POST /prod/webhooks/twilio/sms/status',
      rawPath: '/prod/webhooks/twilio/sms/status',
      rawQueryString: '',
      headers: event.headers,
      body: event.body,
      isBase64Encoded: true,
      requestContext: {
        accountId: 'replay',
        apiId: 'replay',
        domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'replay',
        http: event.requestContext.http,
        requestId: expect.stringMatching(/^replay-[0-9a-z]+$/),
        routeKey: 'POST /prod/webhooks/twilio/sms/status',
        stage: 'prod',
        time: expect.any(String),
        timeEpoch: expect.any(Number),
      },
    });
    expect(opened.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(Date.parse(opened.requestContext.time)).toBeGreaterThan(before - 1_000);
  });

  it('opens a sealed event that carried only its path with the defaults an HTTP API event has', () => {
    const bare = { rawPath: '/webhooks/voipms/sms/incoming' } as unknown as Parameters<typeof sealRequest>[0];
    const opened = openRequest(sealRequest(bare, key), key);
    expect(opened).toMatchObject({
      rawQueryString: '',
      headers: {},
      body: undefined,
      isBase64Encoded: false,
    });
    expect(opened.requestContext).toMatchObject({ stage: '$default', domainName: 'replay', http: {} });
  });

  it('seals each request under its own IV, and refuses a sealed request altered anywhere', () => {
    const event = httpEvent({ path: '/webhooks/twilio/sms/status', body: 'MessageStatus=sent' });
    const first = sealRequest(event, key);
    const second = sealRequest(event, key);
    expect(first.subarray(0, 12).equals(second.subarray(0, 12))).toBe(false);
    for (const at of [0, 12, 28, first.length - 1]) {
      const altered = Buffer.from(first);
      altered[at] = altered[at]! ^ 1;
      expect(() => openRequest(altered, key), `byte ${at}`).toThrow();
    }
  });

  it('takes a replay key of exactly 32 bytes, and none when unset', () => {
    expect(parseReplayKey(undefined)).toBeUndefined();
    expect(parseReplayKey('')).toBeUndefined();
    expect(parseReplayKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(() => parseReplayKey(Buffer.alloc(31).toString('base64'))).toThrow(/32 bytes/);
    expect(() => parseReplayKey(Buffer.alloc(33).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('well-formed text', () => {
  it('copies buffers and other values untouched', () => {
    const buffer = Buffer.from([0xd8, 0x00]);
    expect(wellFormed(buffer)).toBe(buffer);
    expect(wellFormed(null)).toBe(null);
    expect(wellFormed(3)).toBe(3);
  });
});

describe('what a request may hold', () => {
  const post = (body: string, headers: Record<string, string> = {}, base64 = false) =>
    httpEvent({ path: '/p', body, headers, base64 });
  const decode = (event: ReturnType<typeof httpEvent>) => decodeRequest(event, ['POST']);

  it('refuses a NUL however it is written: raw, percent-escaped, JSON-escaped, in the body or the query', () => {
    for (const event of [
      post('Body=a%00b', { 'content-type': 'application/x-www-form-urlencoded' }),
      post('Body=a\u0000b', { 'content-type': 'application/x-www-form-urlencoded' }, true),
      post('{"Body":"a\\u0000b"}', { 'content-type': 'application/json' }),
      httpEvent({ path: '/p', rawQuery: 'x=%00', method: 'GET' }),
    ]) {
      expect(
        thrown(() => decodeRequest(event, ['POST', 'GET'])),
        event.body ?? event.rawQueryString,
      ).toMatchObject({
        statusCode: 400,
        message: 'request contains a NUL character',
      });
    }
    // The text "%00" itself, percent-encoded, is no NUL.
    expect(
      decode(post('Body=%2500', { 'content-type': 'application/x-www-form-urlencoded' })).fields.Body,
    ).toEqual(['%00']);
  });

  it('refuses bytes that are not UTF-8, and takes a replacement character that was really sent', () => {
    const invalid = httpEvent({ path: '/p', body: '', headers: { 'content-type': 'text/plain' } });
    invalid.body = Buffer.from([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff, 0xfe]).toString('base64');
    invalid.isBase64Encoded = true;
    expect(thrown(() => decode(invalid))).toMatchObject({ statusCode: 400 });
    const sent = post('Body=a\uFFFDb', { 'content-type': 'application/x-www-form-urlencoded' }, true);
    expect(decode(sent).fields.Body).toEqual(['a\uFFFDb']);
  });

  it('reads a body without a type as JSON only when it opens with { or [, spaces allowed', () => {
    expect(decode(post('Body=hi {there}')).fields.Body).toEqual(['hi {there}']);
    expect(decode(post('  {"Body":"hi"}')).json).toEqual({ Body: 'hi' });
    expect(decode(post('[1,2]')).json).toEqual([1, 2]);
  });

  it('takes no fields from a JSON array, and skips nested values and nulls of an object', () => {
    expect({ ...decode(post('[1,2]')).fields }).toEqual({});
    const object = decode(post('{"a":"x","n":null,"o":{"b":1},"l":[1],"t":true,"k":2}'));
    expect({ ...object.fields }).toEqual({ a: ['x'], t: ['true'], k: ['2'] });
  });
});

describe('masking, at the edges of a character', () => {
  it('counts a pair of surrogates as one character, at either end of the range, and a lone one as one', () => {
    expect(maskPayload({ Body: '\u{10000}\u{10FFFF}ab' })).toEqual({ Body: '[4 chars]' });
    expect(maskPayload({ Body: '\ud800x' })).toEqual({ Body: '[2 chars]' });
    expect(maskPayload({ Body: '\udbffx\udfff' })).toEqual({ Body: '[3 chars]' });
  });
});

describe('budget keys at the edges', () => {
  it('reads only ::ffff:a.b.c.d as a mapped IPv4 address, and an unreadable source as unknown', () => {
    expect(budgetKey('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(budgetKey('1::ffff:102:304')).toBe('1:0:0:0::/64');
    expect(budgetKey('::1:ffff:102:304')).toBe('0:0:0:0::/64');
    expect(budgetKey(undefined)).toBe('unknown');
    expect(budgetKey('not-an-ip')).toBe('unknown');
  });

  it('keeps an excerpt of exactly 240 characters whole', () => {
    // {"query":{"k":["[N chars]"]},"fields":{}} grows with the key's length: pick the key that makes 240.
    const make = (key: string) => httpEvent({ path: '/p', rawQuery: `${key}=v` });
    const base = JSON.stringify({ query: { k: ['[1 chars]'] }, fields: {} }).length;
    const event = make(`k${'x'.repeat(REFUSED_EXCERPT_CHARS - base)}`);
    const { excerpt } = refusedPayload(event, decodeRequest(event, ['POST'])) as { excerpt: string };
    expect(excerpt).toHaveLength(REFUSED_EXCERPT_CHARS);
    expect(excerpt.endsWith('…')).toBe(false);
  });
});

describe('decoding, at the edges of JSON and NUL', () => {
  const post = (body: string, contentType = 'application/json') =>
    httpEvent({ path: '/p', body, headers: { 'content-type': contentType }, base64: false });
  const decode = (event: ReturnType<typeof httpEvent>) => decodeRequest(event, ['POST']);

  it('takes no fields from JSON that is not an object: null, text, a number', () => {
    for (const [body, json] of [
      ['null', null],
      ['"ab"', 'ab'],
      ['5', 5],
    ] as const) {
      const request = decode(post(body));
      expect({ ...request.fields }, body).toEqual({});
      expect(request.json).toEqual(json);
    }
  });

  it('reads text/plain as a form even when it opens with a brace, and names broken JSON', () => {
    const plain = decode(post('{"a":1}', 'text/plain'));
    expect([{ ...plain.fields }, plain.json]).toEqual([{ '{"a":1}': [''] }, undefined]);
    expect(thrown(() => decode(post('{"a":')))).toMatchObject({
      statusCode: 400,
      message: 'body is not valid JSON',
    });
  });

  it('takes the text \\u0000 or %00 a patient typed: only a real NUL is refused', () => {
    expect(decode(post('{"Body":"\\\\u0000"}')).fields.Body).toEqual(['\\u0000']);
    expect(decode(post('{"Body":"50%00 off","n":null}')).fields.Body).toEqual(['50%00 off']);
    expect(decode(post('Body=%5Cu0000', 'application/x-www-form-urlencoded')).fields.Body).toEqual([
      '\\u0000',
    ]);
  });

  it('refuses a NUL in a key, or nested anywhere in JSON', () => {
    for (const event of [
      post('{"a\\u0000":1}'),
      post('{"o":{"b":["x\\u0000"]}}'),
      post('x%00=1', 'application/x-www-form-urlencoded'),
      httpEvent({ path: '/p', rawQuery: 'k%00=v', method: 'POST' }),
    ]) {
      expect(
        thrown(() => decode(event)),
        event.body ?? event.rawQueryString,
      ).toMatchObject({
        statusCode: 400,
        message: 'request contains a NUL character',
      });
    }
  });
});

describe('route paths of events that lack parts', () => {
  const api = 'abc123.execute-api.ca-central-1.amazonaws.com';

  it('reads the path from the request context without rawPath, and / without either', () => {
    expect(routePath({} as never)).toBe('/');
    expect(routePath({ requestContext: {} } as never)).toBe('/');
    expect(routePath({ requestContext: { http: { path: '/from-context' } } } as never)).toBe('/from-context');
    expect(routePath({ rawPath: '/webhooks/x' } as never)).toBe('/webhooks/x');
  });

  it('strips no stage on the default endpoint when the stage is $default or missing', () => {
    expect(
      routePath({
        rawPath: '/$default/webhooks/x',
        requestContext: { stage: '$default', domainName: api },
      } as never),
    ).toBe('/$default/webhooks/x');
    expect(
      routePath({ rawPath: '/undefined/webhooks/x', requestContext: { domainName: api } } as never),
    ).toBe('/undefined/webhooks/x');
  });

  it('says why a path is refused', () => {
    expect(thrown(() => checkRoutePath('/webhooks/../b', '/b'))).toMatchObject({
      message: 'path has dot segments or encoded separators',
    });
    expect(thrown(() => checkRoutePath('/webhooks/c', '/webhooks/b'))).toMatchObject({
      message: 'path is not /webhooks/b',
    });
  });
});

describe('masking, values of every kind', () => {
  it('masks a bigint like any number, keeping a small one under a safe name', () => {
    expect(maskPayload({ Body: 12345678901234n, NumMedia: 2n })).toEqual({ Body: '[number]', NumMedia: 2n });
  });

  it('counts a phone-shaped value of fewer than five digits as characters, never showing it', () => {
    expect(maskPayload({ Note: '1 2 3 4' })).toEqual({ Note: '[7 chars]' });
  });

  it('counts halves that do not pair as one character each', () => {
    expect(maskPayload({ Body: '\udc00\udc00' })).toEqual({ Body: '[2 chars]' });
    expect(maskPayload({ Body: '\ud800\ue000' })).toEqual({ Body: '[2 chars]' });
  });
});

describe('what a refused request leaves, by kind of body', () => {
  it('keeps only the query of a JSON body in its excerpt, never the fields read from it', () => {
    const event = httpEvent({
      path: '/p',
      rawQuery: 'a=b',
      body: '{"Body":"hello"}',
      headers: { 'content-type': 'application/json' },
    });
    const { excerpt } = refusedPayload(event, decodeRequest(event, ['POST'])) as { excerpt: string };
    expect(excerpt).toBe('{"query":{"a":["[1 chars]"]}}');
  });
});

describe('the Twilio request shape, names cut', () => {
  it('names a repeated field by its first 40 characters', () => {
    const name = `F${'x'.repeat(59)}`;
    const event = httpEvent({
      path: '/webhooks/twilio/sms/status',
      body: `${name}=1&${name}=2`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(thrown(() => checkTwilioShape('twilio/sms/status', decodeRequest(event, ['POST'])))).toMatchObject(
      {
        message: `field ${name.slice(0, 40)} repeated`,
      },
    );
  });
});
