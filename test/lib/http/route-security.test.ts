import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Db, setDb } from '../../../lib/db/index.js';
import type { WebhookResponse } from '../../../lib/http/index.js';
import { localQueues } from '../../../lib/queue/index.js';
import { existingRoutes, ROUTES, type RouteCase, routeExists } from '../../resilience/routes.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { httpEvent, invoke, lambdaContext } from '../../support/events.js';
import { fakeSid, signedTwilioEvent, type TwilioParams } from '../../support/twilio.js';

/**
 * Each route runs only at its own path, and Twilio routes only in the shape Twilio sends (form body, each key
 * once, only the query parameters our own URLs carry): a signature cannot be reused on another route or with
 * its fields moved around. Every refusal here comes from a caller whose signature or token is VALID for the
 * exact request, so nothing but the path and shape checks can be refusing it.
 */
const testDb = useTestDb();
const RUNS = Number(process.env.FC_RUNS ?? 25);
const DATA_TABLES = ['sms_messages', 'calls', 'recordings'];

type Handler = Awaited<ReturnType<typeof existingRoutes>>[number]['handler'];
const handlers = new Map<string, Handler>();
const present = ROUTES.filter((route) => routeExists(route.name));
const twilioRoutes = present.filter((route) => route.provider === 'twilio');

const stored = async () =>
  Promise.all(
    DATA_TABLES.map(
      async (table) =>
        (await testDb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n,
    ),
  );

/** Each refusal here must leave its row: the per-source budget (tested in refusal-budget.test.ts) starts afresh. */
const freshBudget = () => testDb.db.query('DELETE FROM refusal_budget');

async function lastLog() {
  const { rows } = await testDb.db.query<{
    status_code: number;
    signature_valid: boolean | null;
    payload: Record<string, unknown>;
    raw_request_encrypted: Buffer | null;
  }>(
    'SELECT status_code, signature_valid, payload, raw_request_encrypted FROM webhook_logs ORDER BY id DESC LIMIT 1',
  );
  return rows[0]!;
}

/** Sends the request and checks it was refused before its (valid) signature was even looked at. */
async function expectRefusedUnchecked(
  route: RouteCase,
  event: APIGatewayProxyEventV2,
  statuses = [400, 404],
) {
  await freshBudget();
  const before = await stored();
  const response = (await invoke(handlers.get(route.name), event)) as WebhookResponse;
  expect(statuses, `${route.name} ${event.rawPath}?${event.rawQueryString}: ${response.body}`).toContain(
    response.statusCode,
  );
  const log = await lastLog();
  expect(log.signature_valid, 'refused before the caller check').toBeNull();
  expect(log.payload.refused).toBe(true);
  expect(log.raw_request_encrypted).toBeNull();
  expect(await stored()).toEqual(before);
}

/** A request at `path` whose caller check passes for exactly that path and query. */
function validAt(
  route: RouteCase,
  path: string,
  params: TwilioParams,
  rawQuery = '',
): APIGatewayProxyEventV2 {
  if (route.provider === 'twilio') return signedTwilioEvent(path, params, { rawQuery });
  const event = route.event(params);
  event.rawPath = path;
  if (rawQuery) event.rawQueryString = `${event.rawQueryString}&${rawQuery}`;
  return event;
}

beforeAll(async () => {
  for (const route of await existingRoutes()) handlers.set(route.name, route.handler);
});

beforeEach(() => {
  useConfig({ REPLAY_KEY: Buffer.alloc(32, 7).toString('base64') });
  localQueues.reset();
});

/** Ways to write a path that a normaliser would collapse, or that names another route. */
const TRICKS = ['/..', '/.', '/%2e%2e', '/%2E', '%2f', '%2F..', '%5c', '%5C..', '\\', '\\..', '//'];

describe.each(present)('path binding on $name', (route) => {
  it('answers at its own path (the baseline)', async () => {
    const response = await invoke(handlers.get(route.name), validAt(route, route.path, route.params()));
    expect(route.ok).toContain(response.statusCode);
  });

  it('refuses dot segments, encoded separators and backslashes anywhere in the path', async () => {
    const segments = route.path.split('/');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: segments.length }),
        fc.constantFrom(...TRICKS),
        fc.constantFrom('', 'x', 'webhooks', 'voice/status'),
        async (at, trick, tail) => {
          const path = [...segments.slice(0, at), `${trick}${tail ? `/${tail}` : ''}`, ...segments.slice(at)]
            .join('/')
            .replace(/\/{3,}/g, '//');
          await expectRefusedUnchecked(route, validAt(route, path, route.params()));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("refuses another route's path, a trailing slash and a case change", async () => {
    const others = ROUTES.filter((other) => other.path !== route.path).map((other) => other.path);
    for (const path of [...others, `${route.path}/`, route.path.toUpperCase(), `/prod${route.path}`]) {
      await expectRefusedUnchecked(route, validAt(route, path, route.params()));
    }
    // The issue's example: a path that collapses to this route's path from another's.
    const sibling = route.provider === 'twilio' ? 'twilio/sms/status' : 'voipms/call/cdr';
    const tail = route.name.split('/').slice(1).join('/');
    await expectRefusedUnchecked(route, validAt(route, `/webhooks/${sibling}/../../${tail}`, route.params()));
  });
});

describe.each(twilioRoutes)('Twilio request shape on $name', (route) => {
  it('refuses a body field moved onto the query string, even with a valid signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (pick) => {
        const params = route.params() as Record<string, string>;
        const keys = Object.keys(params);
        const key = keys[pick % keys.length]!;
        const { [key]: moved, ...rest } = params;
        const rawQuery = new URLSearchParams({ [key]: moved! }).toString();
        await expectRefusedUnchecked(route, validAt(route, route.path, rest, rawQuery), [400]);
      }),
      { numRuns: Math.min(RUNS, 10) },
    );
  });

  it('refuses a JSON body, even signed over its fields', async () => {
    const params = route.params() as Record<string, string>;
    const signature = getExpectedTwilioSignature(TEST_AUTH_TOKEN, TEST_BASE_URL + route.path, params);
    const event = httpEvent({
      path: route.path,
      body: JSON.stringify({ ...params, Nested: { step: 'dial-result' } }),
      headers: { 'content-type': 'application/json', 'x-twilio-signature': signature },
    });
    await expectRefusedUnchecked(route, event, [400]);
    const untyped = httpEvent({
      path: route.path,
      body: JSON.stringify(params),
      headers: { 'x-twilio-signature': signature },
    });
    await expectRefusedUnchecked(route, untyped, [400]);
  });

  it('refuses a repeated body key, even signed with every value', async () => {
    const params = route.params() as Record<string, string>;
    for (const key of Object.keys(params)) {
      await expectRefusedUnchecked(
        route,
        validAt(route, route.path, { ...params, [key]: [params[key]!, params[key]!] }),
        [400],
      );
    }
  });

  it('refuses query parameters the service never puts in its URLs', async () => {
    for (const rawQuery of [
      'foo=1',
      'step=dial-result',
      'reply=SM0',
      'token=x',
      'MessageSid=SMx',
      '=',
      'a&b',
    ]) {
      const allowed =
        (route.name === 'twilio/voice/incoming' && rawQuery === 'step=dial-result') ||
        (route.name === 'twilio/sms/status' && rawQuery.startsWith('reply=SM') && rawQuery.length === 40);
      if (allowed) continue;
      await expectRefusedUnchecked(route, validAt(route, route.path, route.params(), rawQuery), [400]);
    }
  });
});

describe('query parameters our own URLs carry', () => {
  const voice = ROUTES.find((route) => route.name === 'twilio/voice/incoming')!;
  const smsStatus = ROUTES.find((route) => route.name === 'twilio/sms/status')!;
  const dialResult = () => ({ ...voice.params(), CallStatus: 'in-progress', DialCallStatus: 'no-answer' });

  it.runIf(routeExists(voice.name))(
    'accepts step on the voice route, and only its two values, once',
    async () => {
      for (const step of ['dial-result', 'voicemail-done']) {
        const response = await invoke(
          handlers.get(voice.name),
          validAt(voice, voice.path, dialResult(), `step=${step}`),
        );
        expect(response.statusCode).toBe(200);
      }
      await expectRefusedUnchecked(voice, validAt(voice, voice.path, dialResult(), 'step=evil'), [400]);
      await expectRefusedUnchecked(
        voice,
        validAt(voice, voice.path, dialResult(), 'step=dial-result&step=voicemail-done'),
        [400],
      );
      await expectRefusedUnchecked(
        voice,
        validAt(voice, voice.path, { ...dialResult(), step: 'voicemail-done' }, 'step=dial-result'),
        [400],
      );
    },
  );

  it.runIf(routeExists(smsStatus.name))(
    'accepts reply=<inbound MessageSid> on the SMS status route',
    async () => {
      const reply = fakeSid('SM');
      const ok = await invoke(
        handlers.get(smsStatus.name),
        validAt(smsStatus, smsStatus.path, smsStatus.params(), `reply=${reply}`),
      );
      expect(ok.statusCode).toBe(204);
      for (const bad of [
        'reply=SM123',
        `reply=MM${reply.slice(2)}`,
        `reply=${reply}&reply=${reply}`,
        `reply=${reply}x`,
      ]) {
        await expectRefusedUnchecked(
          smsStatus,
          validAt(smsStatus, smsStatus.path, smsStatus.params(), bad),
          [400],
        );
      }
    },
  );

  it('the URLs the service writes pass its own checks (TwiML actions, status callbacks)', async () => {
    const { officeHoursTwiml, afterHoursTwiml, voiceUrls } = await import('../../../lib/twilio/twiml.js');
    const practice = { practiceName: 'Clinic', officeLine: '+15005550001', emergencyLine: null };
    const xml =
      officeHoursTwiml(practice, voiceUrls(TEST_BASE_URL)) +
      afterHoursTwiml(practice, voiceUrls(TEST_BASE_URL));
    const urls = [...xml.matchAll(/(?:action|recordingStatusCallback)="([^"]+)"/g)].map((m) =>
      m[1]!.replaceAll('&amp;', '&'),
    );
    expect(urls.length).toBeGreaterThan(1);
    for (const url of urls) {
      const parsed = new URL(url);
      const route = ROUTES.find((r) => r.path === parsed.pathname)!;
      const params = parsed.pathname.endsWith('/incoming') ? dialResult() : route.params();
      const response = await invoke(
        handlers.get(route.name),
        signedTwilioEvent(parsed.pathname, params, { rawQuery: parsed.search.slice(1) }),
      );
      expect(route.ok, url).toContain(response.statusCode);
    }
  });
});

describe('refused requests are logged small', () => {
  it.each(present)(
    'a refused request on $name keeps sizes, hashes and a short masked excerpt, never the raw request',
    async (route) => {
      const event = validAt(route, route.path, {
        ...route.params(),
        Body: 'my tooth hurts 4155550199'.repeat(200),
      });
      if (route.provider === 'twilio') event.headers['x-twilio-signature'] = 'bm90IGEgc2lnbmF0dXJl';
      else event.rawQueryString = 'token=wrong';
      await freshBudget();
      const response = await invoke(handlers.get(route.name), event);
      expect(response.statusCode).toBe(403);
      const log = await lastLog();
      expect(log.signature_valid).toBe(false);
      expect(log.raw_request_encrypted).toBeNull();
      expect(Object.keys(log.payload).sort()).toEqual([
        'bodyBytes',
        'bodySha256',
        'excerpt',
        'queryBytes',
        'refused',
      ]);
      expect(log.payload.bodyBytes).toBe(event.body?.length ?? 0);
      expect(String(log.payload.excerpt).length).toBeLessThanOrEqual(241);
      expect(JSON.stringify(log)).not.toMatch(/tooth|4155550199/);
    },
  );

  it.each(present)('an accepted request on $name is still sealed for replay', async (route) => {
    await invoke(handlers.get(route.name), validAt(route, route.path, route.params()));
    expect((await lastLog()).raw_request_encrypted).not.toBeNull();
  });
});

describe('deployment shapes', () => {
  const smsStatus = ROUTES.find((route) => route.name === 'twilio/sms/status')!;

  it('a custom domain with an API mapping key: rawPath omits the key, WEBHOOK_BASE_URL carries it', async () => {
    useConfig({ WEBHOOK_BASE_URL: 'https://hooks.example.com/pedro' });
    const event = signedTwilioEvent(smsStatus.path, smsStatus.params(), {
      baseUrl: 'https://hooks.example.com/pedro',
    });
    event.requestContext.domainName = 'hooks.example.com';
    event.requestContext.stage = 'prod';
    expect((await invoke(handlers.get(smsStatus.name), event)).statusCode).toBe(204);
  });

  it('a named stage on the default endpoint: the stage prefix is stripped, WEBHOOK_BASE_URL ends with it', async () => {
    const base = 'https://abc123.execute-api.us-east-1.amazonaws.com';
    useConfig({ WEBHOOK_BASE_URL: `${base}/prod` });
    const event = signedTwilioEvent(`/prod${smsStatus.path}`, smsStatus.params(), { baseUrl: base });
    event.requestContext.domainName = 'abc123.execute-api.us-east-1.amazonaws.com';
    event.requestContext.stage = 'prod';
    expect((await invoke(handlers.get(smsStatus.name), event)).statusCode).toBe(204);
    // Another stage's prefix is not stripped: that request is not this deployment's.
    const other = signedTwilioEvent(`/dev${smsStatus.path}`, smsStatus.params(), { baseUrl: base });
    other.requestContext.domainName = 'abc123.execute-api.us-east-1.amazonaws.com';
    other.requestContext.stage = 'prod';
    expect((await invoke(handlers.get(smsStatus.name), other)).statusCode).toBe(404);
  });
});

describe('the Lambda deadline', () => {
  const voice = ROUTES.find((route) => route.name === 'twilio/voice/incoming')!;

  it.runIf(routeExists(voice.name))(
    'the voice route answers its fallback TwiML before the deadline when Postgres hangs',
    async () => {
      const hanging: Db = {
        kind: 'pg',
        query: () => new Promise(() => undefined),
        transaction: () => new Promise(() => undefined),
        close: async () => undefined,
      } as unknown as Db;
      setDb(hanging);
      try {
        const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 2_000 };
        const started = performance.now();
        const response = (await (
          handlers.get(voice.name) as (e: unknown, c: unknown) => Promise<WebhookResponse>
        )(voice.event(voice.params()), context)) as WebhookResponse;
        const elapsed = performance.now() - started;
        expect(response.statusCode).toBe(200);
        expect(response.body).toContain('<Record');
        expect(elapsed).toBeLessThan(1_900);
      } finally {
        setDb(testDb.db);
      }
    },
  );

  it.runIf(routeExists(voice.name))(
    'answers normally when there is time (no fallback while the work is quick)',
    async () => {
      const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 8_000 };
      const response = (await (
        handlers.get(voice.name) as (e: unknown, c: unknown) => Promise<WebhookResponse>
      )(voice.event(voice.params()), context)) as WebhookResponse;
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toBe('');
      expect(await testDb.db.query('SELECT 1 FROM calls')).toMatchObject({ rows: [{}] });
    },
  );
});
