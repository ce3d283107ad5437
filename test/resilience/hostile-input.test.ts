import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookResponse } from '../../lib/http/index.js';
import { wellFormedText } from '../../lib/http/well-formed.js';
import { localQueues } from '../../lib/queue/index.js';
import { ALLOWED_IP } from '../lib/voipms/factories.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL, TEST_VOIPMS_TOKEN, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { httpEvent, invoke } from '../support/events.js';
import { encodeForm, signedTwilioEvent, type TwilioParams } from '../support/twilio.js';
import { existingRoutes, ROUTES, type RouteCase, routeExists } from './routes.js';

/**
 * Hostile input against every route that exists: whatever arrives, the answer is a 2xx or a 4xx (never a
 * 5xx, never a throw), every request leaves exactly one webhook_logs row, refused requests store nothing,
 * and no whole phone number reaches the log.
 */
const testDb = useTestDb();
const RUNS = Number(process.env.FC_RUNS ?? 25);
const PHONE_DIGITS = /4155550123|5145550123|5005550006/;
const DATA_TABLES = ['sms_messages', 'calls', 'recordings', 'opt_outs'];

type Handler = Awaited<ReturnType<typeof existingRoutes>>[number]['handler'];
const handlers = new Map<string, Handler>();

/**
 * NUL is the one character Postgres text and jsonb refuse; the generators leave it out so a failure names its
 * cause, and 'a NUL byte …' below asserts how it is handled.
 */
const noNul = (text: string) => text.replaceAll('\u0000', '');

const count = async (table: string) =>
  (await testDb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
const storedRows = async () => Promise.all(DATA_TABLES.map(count));

/** Invokes the route and checks what must hold for any request at all; returns the answer. */
async function send(route: RouteCase, event: APIGatewayProxyEventV2): Promise<WebhookResponse> {
  // Each refusal here must leave its row: the per-source refusal budget (refusal-budget.test.ts) starts afresh.
  await testDb.db.query('DELETE FROM refusal_budget');
  const logsBefore = await count('webhook_logs');
  const storedBefore = await storedRows();
  let response: WebhookResponse;
  try {
    response = await invoke(handlers.get(route.name), event);
  } catch (error) {
    throw new Error(`${route.name} threw instead of answering: ${(error as Error).message}`);
  }
  expect(response.statusCode, `${route.name}: ${response.body}`).toBeLessThan(500);
  for (const value of Object.values(response.headers ?? {})) expect(String(value)).not.toMatch(/[\r\n]/);
  expect(await count('webhook_logs'), 'one webhook_logs row per request').toBe(logsBefore + 1);
  const log = await testDb.db.query<{ payload: unknown; error: string | null }>(
    'SELECT payload, error FROM webhook_logs ORDER BY id DESC LIMIT 1',
  );
  expect(JSON.stringify(log.rows[0])).not.toMatch(PHONE_DIGITS);
  if (response.statusCode >= 400)
    expect(await storedRows(), 'a refused request stores nothing').toEqual(storedBefore);
  return response;
}

/** A raw POST to a route, with the caller check satisfied or not as the test wants. */
function rawEvent(
  route: RouteCase,
  options: {
    body?: string;
    contentType?: string;
    base64?: boolean;
    method?: string;
    headers?: Record<string, string>;
    signature?: string;
  },
): APIGatewayProxyEventV2 {
  const { body, contentType, base64 = true, method = 'POST' } = options;
  const headers: Record<string, string> = { ...(contentType ? { 'content-type': contentType } : {}) };
  if (route.provider === 'twilio')
    headers['x-twilio-signature'] = options.signature ?? 'bm90IGEgc2lnbmF0dXJl';
  return httpEvent({
    method,
    path: route.path,
    rawQuery: route.provider === 'voipms' ? `token=${TEST_VOIPMS_TOKEN}` : '',
    body,
    base64,
    headers: { ...headers, ...options.headers },
    sourceIp: route.provider === 'voipms' ? ALLOWED_IP : '54.172.60.1',
  });
}

/** A valid request of the route whose fields are `params`, correctly signed (Twilio) or tokened (VoIP.ms). */
const validEvent = (route: RouteCase, params: TwilioParams) =>
  route.provider === 'twilio' ? signedTwilioEvent(route.path, params) : route.event(params);

const present = ROUTES.filter((route) => routeExists(route.name));

beforeAll(async () => {
  for (const route of await existingRoutes()) handlers.set(route.name, route.handler);
});

beforeEach(() => {
  useConfig();
  localQueues.reset();
});

describe.each(present)('hostile input on $name', (route) => {
  it('answers a valid request (the baseline the other cases tamper with)', async () => {
    const response = await send(route, validEvent(route, route.params()));
    expect(route.ok).toContain(response.statusCode);
  });

  it('never fails on random bodies, content types, encodings and methods', async () => {
    const body = fc
      .oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.json({ maxDepth: 3 }),
        fc
          .dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 8 })
          .map((fields) => new URLSearchParams(fields).toString()),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      )
      .map(noNul);
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom(
          undefined,
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/xml',
          'application/x-www-form-urlencoded; charset=ISO-8859-1',
        ),
        fc.boolean(),
        fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
        async (raw, contentType, base64, method) => {
          const response = await send(route, rawEvent(route, { body: raw, contentType, base64, method }));
          // A forged Twilio request is never accepted; VoIP.ms may accept a random body that happens to parse.
          if (route.provider === 'twilio') expect(response.statusCode).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('never fails on random fields that pass the caller check', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom(...Object.keys(route.params()), 'Extra', 'token', 'media', ''),
          fc
            .oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', ' ', '0', '-1', '1e309', 'null', '[]'))
            .map(noNul),
          { maxKeys: 10 },
        ),
        async (fields) => {
          await send(route, validEvent(route, fields));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses a body that is not valid UTF-8 with 400', async () => {
    const invalid = Buffer.from([0x66, 0x6f, 0x6f, 0x3d, 0xc3, 0x28, 0xff, 0xfe, 0x80]).toString('base64');
    const event = rawEvent(route, { contentType: 'application/x-www-form-urlencoded' });
    event.body = invalid;
    event.isBase64Encoded = true;
    const response = await send(route, event);
    expect(response.statusCode).toBe(400);
  });

  it('refuses a body over 64 KiB with 413, whatever the encoding', async () => {
    for (const base64 of [true, false]) {
      const params = { ...route.params(), Body: 'x'.repeat(70_000), message: 'y'.repeat(70_000) };
      const response = await send(
        route,
        rawEvent(route, {
          body: encodeForm(params),
          contentType: 'application/x-www-form-urlencoded',
          base64,
        }),
      );
      expect(response.statusCode).toBe(413);
    }
  });

  it('refuses methods the route does not serve with 405', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await send(route, rawEvent(route, { method, body: 'a=b' }));
      expect(response.statusCode).toBe(405);
    }
  });

  it('keeps CR/LF in request headers from reaching response headers or breaking the answer', async () => {
    const valid = validEvent(route, route.params());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'x-twilio-signature',
          'content-type',
          'x-forwarded-for',
          'user-agent',
          'host',
          'x-evil',
        ),
        fc.constantFrom(
          '\r\nSet-Cookie: session=1',
          '\nLocation: https://evil.example',
          '\r\n\r\n<xml/>',
          '\r',
        ),
        async (header, injected) => {
          const event = structuredClone(valid);
          event.headers = { ...event.headers, [header]: `${event.headers[header] ?? 'v'}${injected}` };
          const response = await send(route, event);
          expect(JSON.stringify(response.headers ?? {})).not.toMatch(/set-cookie|location/i);
          if (route.provider === 'twilio' && header === 'x-twilio-signature')
            expect(response.statusCode).toBe(403);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('survives duplicate keys: refused naming the field, or every value kept in the log', async () => {
    const params = route.params();
    for (const key of Object.keys(params)) {
      const value = params[key] as string;
      const duplicated = { ...route.params(), [key]: [value, `${value}2`] };
      const response = await send(route, validEvent(route, duplicated));
      if (response.statusCode >= 400) {
        // A JSON body has no repeated fields: the form-encoded copy is simply not JSON.
        expect(JSON.parse(response.body).error, `${route.name} ${key}`).toMatch(
          new RegExp(`^(field|query parameter) ${key} repeated$|^body is not valid JSON$`),
        );
        continue;
      }
      const log = await testDb.db.query<{ payload: Record<string, Record<string, unknown[]>> }>(
        'SELECT payload FROM webhook_logs ORDER BY id DESC LIMIT 1',
      );
      const { query = {}, fields = {} } = log.rows[0]!.payload;
      expect(query[key] ?? fields[key], `${route.name} ${key}: both values logged`).toHaveLength(2);
    }
  });

  it('treats SQL and XML metacharacters in every field as plain data', async () => {
    const payloads = [
      "'; DROP TABLE sms_messages; --",
      '" OR 1=1 --',
      '$1$2 \\ %s %n',
      '<Response><Dial>+19005550100</Dial></Response>',
      ']]><!ENTITY x SYSTEM "file:///etc/passwd">&x;',
      '&amp;&lt;&#x0;',
      '👩‍⚕️ ñ € \u202e',
    ];
    for (const key of Object.keys(route.params())) {
      for (const payload of payloads) {
        const params = { ...route.params(), [key]: payload };
        const response = await send(route, validEvent(route, params));
        if (String(response.headers?.['content-type'] ?? '').includes('xml')) {
          expect(response.body).not.toContain('<Dial>+19005550100');
          expect(response.body).not.toContain('<!ENTITY');
        }
      }
    }
    // The text of an inbound SMS is stored as sent, metacharacters and all.
    const textKey = ['Body', 'message'].find((key) => key in route.params());
    if (textKey && route.name.includes('sms/incoming')) {
      const stored = await testDb.db.query<{ body: string }>(
        `SELECT body FROM sms_messages WHERE direction = 'inbound' AND body = ANY($1)`,
        [payloads.slice(0, 4)],
      );
      expect(new Set(stored.rows.map((row) => row.body))).toEqual(new Set(payloads.slice(0, 4)));
    }
    const tables = await testDb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('sms_messages', 'webhook_logs', 'calls')`,
    );
    expect(tables.rows[0]!.n).toBe(3);
  }, 120_000);

  it('a NUL byte in any field is refused or dropped: never a 5xx, still logged', async () => {
    for (const key of Object.keys(route.params())) {
      await send(route, validEvent(route, { ...route.params(), [key]: 'nul\u0000byte' }));
    }
  });
});

describe.each(present.filter((route) => route.provider === 'twilio'))(
  'forged signatures on $name',
  (route) => {
    const expectRefused = async (event: APIGatewayProxyEventV2) => {
      const response = await send(route, event);
      expect(response.statusCode).toBe(403);
      const log = await testDb.db.query<{ signature_valid: boolean }>(
        'SELECT signature_valid FROM webhook_logs ORDER BY id DESC LIMIT 1',
      );
      expect(log.rows[0]!.signature_valid).toBe(false);
    };
    /** A shape Twilio never sends (repeated key, unknown query parameter): refused before the signature check. */
    const expectShapeRefused = async (event: APIGatewayProxyEventV2) => {
      const response = await send(route, event);
      expect(response.statusCode).toBe(400);
      const log = await testDb.db.query<{ signature_valid: boolean | null }>(
        'SELECT signature_valid FROM webhook_logs ORDER BY id DESC LIMIT 1',
      );
      expect(log.rows[0]!.signature_valid).toBeNull();
    };

    it('refuses every single-field tamper of a valid request', async () => {
      const params = route.params() as Record<string, string>;
      const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, TEST_BASE_URL + route.path, params);
      const withBody = (fields: TwilioParams) => signedTwilioEvent(route.path, fields, { signature });
      for (const key of Object.keys(params)) {
        await expectRefused(withBody({ ...params, [key]: `${params[key]}x` }));
        await expectRefused(withBody({ ...params, [key]: '' }));
        const { [key]: _dropped, ...without } = params;
        await expectRefused(withBody(without));
      }
      await expectRefused(withBody({ ...params, Injected: 'yes' }));
      await expectShapeRefused(withBody({ ...params, Body: [params.Body ?? 'a', 'b'] }));
      await expectRefused(
        // The last character before '=' carries 2 bits: swap it for another valid one, never the same.
        signedTwilioEvent(route.path, params, {
          signature: `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'E' : 'A'}=`,
        }),
      );
      await expectRefused(signedTwilioEvent(route.path, params, { signature: '' }));
      await expectRefused(signedTwilioEvent(route.path, params, { authToken: `${TEST_AUTH_TOKEN}0` }));
      await expectRefused(signedTwilioEvent(route.path, params, { baseUrl: 'http://hooks.example.test' }));
      await expectShapeRefused(signedTwilioEvent(route.path, params, { signature, rawQuery: 'unsigned=1' }));
      const lowerCased = signedTwilioEvent(route.path, params);
      const original = lowerCased.headers['x-twilio-signature']!;
      lowerCased.headers['x-twilio-signature'] = original.toLowerCase();
      if (original !== original.toLowerCase()) await expectRefused(lowerCased);
    });

    it('refuses a valid signature replayed to another route or URL', async () => {
      const params = route.params();
      for (const other of ROUTES.filter((r) => r.provider === 'twilio' && r.path !== route.path)) {
        await expectRefused(signedTwilioEvent(route.path, params, { signedPath: other.path }));
      }
      await expectRefused(signedTwilioEvent(route.path, params, { signedPath: `${route.path}/` }));
      await expectRefused(signedTwilioEvent(route.path, params, { signedPath: route.path.toUpperCase() }));
    });
  },
);

describe.each(present.filter((route) => route.provider === 'voipms'))('caller checks on $name', (route) => {
  it('refuses a disallowed source IP whatever the forwarding headers claim', async () => {
    const spoofs: Record<string, string>[] = [
      { 'x-forwarded-for': ALLOWED_IP },
      { 'x-forwarded-for': `${ALLOWED_IP}, 192.0.2.55` },
      { 'x-real-ip': ALLOWED_IP },
      { forwarded: `for=${ALLOWED_IP};proto=https` },
      { 'cf-connecting-ip': ALLOWED_IP, 'true-client-ip': ALLOWED_IP },
    ];
    for (const headers of spoofs) {
      const response = await send(route, route.event(route.params(), { sourceIp: '192.0.2.55', headers }));
      expect(response.statusCode).toBe(403);
    }
  });

  it('refuses a wrong, missing or body-borne token', async () => {
    for (const rawQuery of ['', `token=${TEST_VOIPMS_TOKEN}x`, 'token=', `TOKEN=${TEST_VOIPMS_TOKEN}`]) {
      const event = route.event(route.params());
      event.rawQueryString =
        rawQuery +
        (route.method === 'GET' ? `&${new URLSearchParams(route.params() as Record<string, string>)}` : '');
      const response = await send(route, event);
      expect(response.statusCode).toBe(403);
    }
    const inBody = rawEvent(route, {
      body: encodeForm({ ...route.params(), token: TEST_VOIPMS_TOKEN }),
      contentType: 'application/x-www-form-urlencoded',
    });
    inBody.rawQueryString = '';
    expect((await send(route, inBody)).statusCode).toBe(403);
  });
});

/**
 * Lone UTF-16 surrogates ("\ud800") are legal in a JSON string and in a Lambda event, but Postgres jsonb
 * refuses them: they used to turn into 503s and lost log rows. A storm of requests with one in every field,
 * header and the path: never a 5xx, one webhook_logs row each.
 */
const STORM_PER_ROUTE = Number(process.env.HOSTILE_STORM ?? 250);
const SURROGATES = ['\ud800', '\udfff', 'a\ud83d', '\ude00b', '\udbff\udbff', 'x\udc00\ud800y'];
const MARK = 'SURROGATE9MARK';

/** A form or query string whose values carry raw lone surrogates (URLSearchParams would replace them). */
function rawForm(params: Record<string, string>): string {
  const marked: Record<string, string> = {};
  const kept: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    kept.push(value);
    marked[key] = `${MARK}${kept.length - 1}${MARK}`;
  }
  return new URLSearchParams(marked)
    .toString()
    .replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_, index) => kept[Number(index)]!);
}

function surrogateEvent(
  route: RouteCase,
  params: Record<string, string>,
  where: number,
): APIGatewayProxyEventV2 {
  const surrogate = SURROGATES[where % SURROGATES.length]!;
  const headers = { 'i-twilio-idempotency-token': `tok${surrogate}`, 'user-agent': `agent${surrogate}` };
  let event: APIGatewayProxyEventV2;
  if (route.provider === 'twilio') {
    // Signed as Twilio would see the text (each lone surrogate as U+FFFD), sent with the raw characters.
    const seen = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, wellFormedText(v)]));
    event = signedTwilioEvent(route.path, seen, { headers });
    event.body = rawForm(params);
    event.isBase64Encoded = false;
  } else if (route.method === 'GET') {
    event = route.event({}, { headers });
    event.rawQueryString = `token=${TEST_VOIPMS_TOKEN}&${rawForm(params)}`;
  } else {
    event = route.event({}, { headers: { ...headers, 'content-type': 'application/json' } });
    const body =
      params.cdr === undefined
        ? params
        : {
            cdr: (JSON.parse(params.cdr) as Record<string, string>[]).map((record) =>
              Object.fromEntries(Object.entries(record).map(([k, v]) => [k, `${v}${surrogate}`])),
            ),
          };
    event.body = JSON.stringify(body);
    event.isBase64Encoded = false;
  }
  if (where % 7 === 0) event.rawPath = `${event.rawPath}${surrogate}`;
  return event;
}

describe.each(present)('lone surrogates on $name', (route) => {
  it(`${STORM_PER_ROUTE} requests with a lone surrogate in every field: no 5xx, one log row each`, async () => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < STORM_PER_ROUTE; i++) {
      const params = route.params() as Record<string, string>;
      const hostile = Object.fromEntries(
        Object.entries(params).map(([key, value], index) => [
          key,
          key === 'cdr' ? value : `${value}${SURROGATES[(i + index) % SURROGATES.length]}`,
        ]),
      );
      const response = await send(route, surrogateEvent(route, hostile, i));
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    }
    const logged = await testDb.db.query<{ payload: unknown }>('SELECT payload FROM webhook_logs');
    expect(JSON.stringify(logged.rows)).not.toMatch(/\\ud[89ab]/i);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
  }, 900_000);
});
