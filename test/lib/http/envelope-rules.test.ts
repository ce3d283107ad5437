import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setConfig } from '../../../lib/config.js';
import { type Db, getDb, setDb } from '../../../lib/db/index.js';
import {
  BadRequestError,
  ForbiddenError,
  HttpError,
  type RouteContext,
  type RouteSpec,
  type WebhookResponse,
  webhookRoute,
} from '../../../lib/http/index.js';
import { openRequest } from '../../../lib/http/sealed-request.js';
import { carryingPendingLog, type WebhookLogRow } from '../../../lib/http/webhook-log.js';
import { logger } from '../../../lib/observability.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { httpEvent, lambdaContext } from '../../support/events.js';
import { countedMetrics, metricsPublished } from '../../support/metrics.js';

/**
 * The envelope every webhook shares, on a route of its own (no product handler behind it), so each rule is seen
 * on its own: what the handler receives, what the caller is answered, and the one webhook_logs row each request
 * leaves, whichever way it ends.
 */
const testDb = useTestDb();
const REPLAY_KEY = Buffer.alloc(32, 9);
const NAME = 'test/envelope';
const PATH = `/webhooks/${NAME}`;
const FROM_IP = '203.0.113.77';

/** A stored row as read back: the payload is JSON, the sealed request bytes. */
type LogRow = Omit<WebhookLogRow, 'payload' | 'raw_request_encrypted' | 'refused'> & {
  payload: Record<string, unknown>;
  raw_request_encrypted: Buffer | null;
};

async function logRows(): Promise<LogRow[]> {
  const { rows } = await testDb.db.query<LogRow>(
    `SELECT provider, endpoint, method, status_code, signature_valid, source_ip,
       duration_ms::float8 AS duration_ms, payload, error, request_id, idempotency_token, raw_request_encrypted
     FROM webhook_logs ORDER BY id`,
  );
  return rows;
}

async function onlyLogRow(): Promise<LogRow> {
  const rows = await logRows();
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** Calls the route as Lambda would, with a context whose deadline and request id the test may set. */
function call(
  handler: ReturnType<typeof webhookRoute>,
  event: APIGatewayProxyEventV2,
  context: Partial<Context> = {},
): Promise<WebhookResponse> {
  return handler(event, { ...lambdaContext(), awsRequestId: 'req-envelope-1', ...context } as Context);
}

const request = (options: Partial<Parameters<typeof httpEvent>[0]> = {}) =>
  httpEvent({
    path: PATH,
    rawQuery: 'token=let-me-in&Digits=5',
    body: 'Body=hello&From=%2B15145550123',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    sourceIp: FROM_IP,
    ...options,
  });

/** A caller check that accepts the token `let-me-in` and refuses anything else, as the real checks refuse. */
const tokenCheck: RouteSpec<unknown>['verify'] = (webhook) => {
  if (webhook.query.token?.[0] !== 'let-me-in') throw new ForbiddenError('invalid token');
};

function route(overrides: Partial<RouteSpec<{ body: string }>> = {}) {
  return webhookRoute<{ body: string }>({
    provider: 'voipms',
    name: NAME,
    methods: ['POST'],
    verify: tokenCheck,
    parse: (webhook) => {
      const body = webhook.fields.Body?.[0];
      if (!body) throw new BadRequestError('Body is required');
      return { body };
    },
    handle: async ({ body }) => ({ statusCode: 200, body: `got ${body}` }),
    ...overrides,
  });
}

beforeEach(() => {
  useConfig({ REPLAY_KEY: REPLAY_KEY.toString('base64') });
  vi.restoreAllMocks();
});

describe('an accepted request', () => {
  it('hands the handler its parsed input and the context, and answers what the handler answers', async () => {
    const seen: { input?: unknown; context?: RouteContext } = {};
    const handler = route({
      successStatus: 202,
      handle: async (input, context) => {
        seen.input = input;
        seen.context = context;
        return { statusCode: 202, body: 'accepted' };
      },
    });
    const response = await call(handler, request());
    expect(response).toEqual({ statusCode: 202, body: 'accepted' });
    expect(seen.input).toEqual({ body: 'hello' });
    expect(seen.context?.requestId).toBe('req-envelope-1');
    expect(seen.context?.request.fields.From).toEqual(['+15145550123']);
    expect(seen.context?.request.query.Digits).toEqual(['5']);
    expect(seen.context?.config.webhookBaseUrl).toBe('https://hooks.example.test');
    // The row that will ride on the handler's first statement already says how the request is to end.
    expect(seen.context?.pendingLog.written).toBe(false);
    expect(seen.context?.pendingLog.row).toMatchObject({
      provider: 'voipms',
      endpoint: PATH,
      method: 'POST',
      status_code: 202,
      signature_valid: true,
      source_ip: FROM_IP,
      error: null,
      request_id: 'req-envelope-1',
    });
  });

  it('leaves one row saying what happened: caller recognised, payload masked, request sealed for replay', async () => {
    const event = request({ headers: { 'i-twilio-idempotency-token': 'idem\u0000-42' } });
    await call(route(), event);
    const row = await onlyLogRow();
    expect(row).toMatchObject({
      provider: 'voipms',
      endpoint: PATH,
      method: 'POST',
      status_code: 200,
      signature_valid: true,
      source_ip: FROM_IP,
      error: null,
      request_id: 'req-envelope-1',
      idempotency_token: 'idem-42',
    });
    // Milliseconds, to two decimals.
    expect(row.duration_ms).toBeGreaterThan(0);
    expect(row.duration_ms).toBeLessThan(5_000);
    expect(Number(row.duration_ms.toFixed(2))).toBe(row.duration_ms);
    expect(row.payload).toEqual({
      query: { token: ['[secret]'], Digits: ['[1 chars]'] },
      fields: { Body: ['[5 chars]'], From: ['+*********23'] },
    });
    expect(row.raw_request_encrypted).not.toBeNull();
    const opened = openRequest(row.raw_request_encrypted!, REPLAY_KEY);
    expect(opened.rawPath).toBe(PATH);
    expect(opened.body).toBe(event.body);
  });

  it('keeps no raw request when no replay key is configured', async () => {
    useConfig({ REPLAY_KEY: undefined });
    await call(route(), request());
    expect((await onlyLogRow()).raw_request_encrypted).toBeNull();
  });

  it('records no request id or idempotency token it was not given', async () => {
    let requestId: string | undefined;
    const handle = async (_input: unknown, context: RouteContext) => {
      requestId = context.requestId;
      return { statusCode: 200, body: '' };
    };
    await call(route({ handle }), request(), { awsRequestId: undefined });
    expect(requestId).toBe('');
    const row = await onlyLogRow();
    expect(row.request_id).toBeNull();
    expect(row.idempotency_token).toBeNull();
  });

  it('writes the row once, with the handler statement that carried it, when the answer is the one expected', async () => {
    const statements: string[] = [];
    const counting: Db = {
      kind: testDb.db.kind,
      query: (text, params) => {
        statements.push(text);
        return testDb.db.query(text, params);
      },
      transaction: (work) => testDb.db.transaction(work),
      session: (work) => testDb.db.session(work),
      close: async () => undefined,
    } as Db;
    setDb(counting);
    try {
      const handler = route({
        successStatus: 202,
        handle: async (_input, context) => {
          await carryingPendingLog(await getDb(), context.pendingLog).query('SELECT 1 AS one');
          return { statusCode: 202, body: '' };
        },
      });
      expect((await call(handler, request())).statusCode).toBe(202);
    } finally {
      setDb(testDb.db);
    }
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('INSERT INTO webhook_logs');
    expect((await onlyLogRow()).status_code).toBe(202);
  });

  it('corrects the carried row when the answer differs from the one expected', async () => {
    const handler = route({
      successStatus: 202,
      handle: async (_input, context) => {
        await carryingPendingLog(await getDb(), context.pendingLog).query('SELECT 1 AS one');
        return { statusCode: 200, body: 'changed my mind' };
      },
    });
    await call(handler, request());
    const row = await onlyLogRow();
    expect(row.status_code).toBe(200);
    expect(row.error).toBeNull();
  });

  it('counts the request by route and status, and no refusal', async () => {
    const metrics = metricsPublished();
    await call(route(), request());
    expect(metrics()).toEqual([
      { name: 'Request', dimensions: expect.objectContaining({ route: NAME, status: '200' }) },
    ]);
  });
});

describe('a request the caller check refuses', () => {
  it('answers 403 in plain text and leaves a small row: no raw request, no token, refused', async () => {
    const metrics = countedMetrics();
    const handle = vi.fn(async () => ({ statusCode: 200, body: '' }));
    const response = await call(
      route({ handle }),
      request({
        rawQuery: 'token=guess',
        headers: { 'i-twilio-idempotency-token': 'forged' },
      }),
    );
    expect(response).toEqual({
      statusCode: 403,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'invalid token',
    });
    expect(handle).not.toHaveBeenCalled();
    const row = await onlyLogRow();
    expect(row).toMatchObject({
      status_code: 403,
      signature_valid: false,
      error: 'invalid token',
      idempotency_token: null,
      raw_request_encrypted: null,
      request_id: 'req-envelope-1',
    });
    expect(row.payload.refused).toBe(true);
    expect(row.payload.bodyBytes).toBe(request().body!.length);
    expect(metrics()).toEqual(['Request', 'RequestRefused']);
  });

  it('keeps a refusal reason to 200 characters', async () => {
    const reason = `no: ${'x'.repeat(400)}`;
    await call(
      route({
        verify: () => {
          throw new ForbiddenError(reason);
        },
      }),
      request(),
    );
    expect((await onlyLogRow()).error).toBe(reason.slice(0, 200));
  });

  it('says when a source has spent its budget, once, and still leaves the row', async () => {
    const added = metricsPublished();
    const metrics = () => added().map(({ name }) => name);
    const dimensions = () => added().map(({ dimensions }) => dimensions);
    const warned = vi.spyOn(logger, 'warn');
    await testDb.db.query(
      `INSERT INTO refusal_budget (source_key, window_start, refused) VALUES ($1, date_trunc('hour', now()), 20)
       ON CONFLICT (source_key) DO UPDATE SET window_start = EXCLUDED.window_start, refused = 20`,
      [FROM_IP],
    );
    await call(route(), request({ rawQuery: 'token=guess' }), { awsRequestId: 'req-over-1' });
    expect(metrics()).toEqual(['Request', 'RequestRefused', 'RefusalBudgetExhausted']);
    expect(dimensions()).toEqual([
      expect.objectContaining({ route: NAME, status: '403' }),
      expect.objectContaining({ route: NAME }),
      expect.objectContaining({ route: NAME }),
    ]);
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('refusal budget exhausted'), {
      route: NAME,
      source: FROM_IP,
    });
    await call(route(), request({ rawQuery: 'token=guess' }), { awsRequestId: 'req-over-2' });
    expect(metrics()).toEqual([
      'Request',
      'RequestRefused',
      'RefusalBudgetExhausted',
      'Request',
      'RequestRefused',
    ]);
    expect((await logRows()).map((row) => row.status_code)).toEqual([403, 403]);
  });
});

describe('a caller check that fails on our side', () => {
  it.each([500, 503])(
    'answers its own %i and keeps the whole row: a failure of ours is not a refusal of the caller',
    async (status) => {
      const response = await call(
        route({
          verify: () => {
            throw new HttpError(status, 'token store unreachable');
          },
        }),
        request(),
      );
      expect(response).toMatchObject({ statusCode: status, body: 'token store unreachable' });
      const row = await onlyLogRow();
      expect(row).toMatchObject({
        status_code: status,
        signature_valid: false,
        error: 'token store unreachable',
      });
      expect(row.payload.refused).toBeUndefined();
    },
  );
});

describe('a request refused before its caller is checked', () => {
  it('leaves the caller check unasked (signature_valid null) for a path that is not the route', async () => {
    const verify = vi.fn(tokenCheck);
    const longPath = `${PATH}/${'a'.repeat(300)}`;
    const response = await call(route({ verify }), request({ path: longPath }));
    expect(response.statusCode).toBe(404);
    expect(verify).not.toHaveBeenCalled();
    const row = await onlyLogRow();
    expect(row.signature_valid).toBeNull();
    expect(row.endpoint).toBe(longPath.slice(0, 200));
    expect(row.payload.refused).toBe(true);
  });

  it('keeps a method it does not take to 16 characters, and names the methods it does', async () => {
    const response = await call(route(), request({ method: 'PROPFINDEVERYTHINGNOW' }));
    expect(response.statusCode).toBe(405);
    expect(response.headers).toMatchObject({ allow: 'POST' });
    expect((await onlyLogRow()).method).toBe('PROPFINDEVERYTHI');
  });

  it('refuses a VoIP.ms query key given twice, naming it (cut to 40 characters)', async () => {
    const key = `k${'e'.repeat(60)}`;
    const twice = await call(route(), request({ rawQuery: `token=let-me-in&token=let-me-in` }));
    expect(twice.statusCode).toBe(400);
    expect(JSON.parse(twice.body)).toEqual({ error: 'query parameter token repeated' });
    const long = await call(route(), request({ rawQuery: `token=let-me-in&${key}=1&${key}=2` }), {
      awsRequestId: 'req-envelope-2',
    });
    expect(JSON.parse(long.body)).toEqual({ error: `query parameter ${key.slice(0, 40)} repeated` });
    const rows = await logRows();
    expect(rows.map((row) => [row.status_code, row.signature_valid])).toEqual([
      [400, null],
      [400, null],
    ]);
  });

  it('takes a key given once each, blank or not', async () => {
    const response = await call(route(), request({ rawQuery: 'token=let-me-in&a=&b=2' }));
    expect(response.statusCode).toBe(200);
  });

  it('checks a Twilio route for the request shape Twilio sends', async () => {
    const verify = vi.fn();
    const twilio = route({ provider: 'twilio', verify });
    const response = await call(twilio, request({ rawQuery: 'Body=moved' }));
    expect(response.statusCode).toBe(400);
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('a request the route cannot handle', () => {
  it('answers a bad payload from a recognised caller with 400, and keeps its whole row', async () => {
    const metrics = countedMetrics();
    const response = await call(route(), request({ body: 'From=%2B15145550123' }));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'Body is required' });
    const row = await onlyLogRow();
    expect(row).toMatchObject({ status_code: 400, signature_valid: true, error: 'Body is required' });
    expect(row.payload.refused).toBeUndefined();
    expect(row.payload.fields).toEqual({ From: ['+*********23'] });
    expect(row.raw_request_encrypted).not.toBeNull();
    expect(metrics()).toEqual(['Request']);
  });

  it('answers an unexpected failure with 503 so the provider retries, telling the caller nothing of it', async () => {
    const logged = vi.spyOn(logger, 'error');
    const failure = `storage said no: ${'y'.repeat(600)}`;
    const response = await call(
      route({
        handle: async () => {
          throw new Error(failure);
        },
      }),
      request(),
    );
    expect(response).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'temporarily unavailable, retry later',
    });
    expect(logged).toHaveBeenCalledWith('webhook handling failed', { route: NAME, error: failure });
    const row = await onlyLogRow();
    expect(row).toMatchObject({ status_code: 503, signature_valid: true, error: failure.slice(0, 500) });
    expect(row.payload.refused).toBeUndefined();
    expect(row.raw_request_encrypted).not.toBeNull();
  });

  it('answers a server-side HTTP error with its own status, as a full row', async () => {
    const response = await call(
      route({
        handle: async () => {
          throw new HttpError(502, 'provider answered badly');
        },
      }),
      request(),
    );
    expect(response).toMatchObject({ statusCode: 502, body: 'provider answered badly' });
    const row = await onlyLogRow();
    expect(row).toMatchObject({ status_code: 502, signature_valid: true, error: 'provider answered badly' });
    expect(row.payload.refused).toBeUndefined();
  });

  it("answers the route's fallback instead, with the error that happened", async () => {
    const fallback = vi.fn((_error: unknown) => ({
      statusCode: 200,
      body: '<Response><Say>sorry</Say></Response>',
    }));
    const failure = new Error('no database');
    const response = await call(
      route({
        fallback,
        handle: async () => {
          throw failure;
        },
      }),
      request(),
    );
    expect(response.body).toBe('<Response><Say>sorry</Say></Response>');
    expect(fallback).toHaveBeenCalledWith(failure);
    const row = await onlyLogRow();
    expect(row).toMatchObject({ status_code: 200, error: 'no database' });
  });

  it.each([500, 502])(
    'answers the fallback for a server-side HTTP error (%i) too, and logs it',
    async (status) => {
      const logged = vi.spyOn(logger, 'error');
      const response = await call(
        route({
          fallback: () => ({ statusCode: 200, body: 'fallback' }),
          handle: async () => {
            throw new HttpError(status, 'provider answered badly');
          },
        }),
        request(),
      );
      expect(response.body).toBe('fallback');
      expect(logged).toHaveBeenCalledWith('webhook handling failed', {
        route: NAME,
        error: 'provider answered badly',
      });
    },
  );

  it('answers a refusal, not the fallback, for what the caller sent wrong', async () => {
    const fallback = vi.fn(() => ({ statusCode: 200, body: 'fallback' }));
    const response = await call(route({ fallback }), request({ body: 'From=x' }));
    expect(response.statusCode).toBe(400);
    expect(fallback).not.toHaveBeenCalled();
  });
});

describe('a configuration that cannot be read', () => {
  it('answers 503 so the provider retries, and logs only the size of the body it could not decode', async () => {
    setConfig(undefined);
    vi.stubEnv('VOIPMS_ALLOWED_IPS', '0.0.0.0/0');
    try {
      const response = await call(route(), request());
      expect(response.statusCode).toBe(503);
    } finally {
      vi.unstubAllEnvs();
    }
    const row = await onlyLogRow();
    expect(row).toMatchObject({ status_code: 503, signature_valid: null });
    expect(row.payload).toEqual({ bodyBytes: request().body!.length });
  });
});

describe('the Lambda deadline', () => {
  // Late work outlives the answer; each test waits for it, so its row never lands in the next test.
  let lateUntil = 0;
  const slow = (ms: number) =>
    route({
      fallback: (error) => ({ statusCode: 200, body: `fallback: ${(error as Error).message}` }),
      handle: () => {
        lateUntil = Math.max(lateUntil, performance.now() + ms);
        return new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: 'late' }), ms));
      },
    });

  afterEach(async () => {
    const left = lateUntil - performance.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left + 200));
    lateUntil = 0;
  });

  it('answers the fallback 1.5 s before the deadline when the work is not done', async () => {
    const metrics = metricsPublished();
    const started = performance.now();
    const response = await call(slow(800), request(), { getRemainingTimeInMillis: () => 1_700 });
    const elapsed = performance.now() - started;
    expect(response.body).toBe('fallback: Lambda deadline near');
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(800);
    expect(metrics()).toContainEqual({
      name: 'DeadlineFallback',
      dimensions: expect.objectContaining({ route: NAME }),
    });
  });

  it('says so in the log when it answers the fallback', async () => {
    const logged = vi.spyOn(logger, 'error');
    await call(slow(400), request(), { getRemainingTimeInMillis: () => 1_550 });
    expect(logged).toHaveBeenCalledWith('answering the fallback before the Lambda deadline', {
      route: NAME,
      remaining: 1_550,
    });
  });

  it('never cuts short a route without a fallback: inside the margin its answer is still awaited', async () => {
    const plain = route({
      handle: () =>
        new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: 'late' }), 100)),
    });
    expect((await call(plain, request(), { getRemainingTimeInMillis: () => 1_000 })).body).toBe('late');
  });

  it('answers the fallback at once when less than the margin is left', async () => {
    const started = performance.now();
    const response = await call(slow(600), request(), { getRemainingTimeInMillis: () => 900 });
    expect(response.body).toBe('fallback: Lambda deadline near');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('waits for the answer when there is time, or when the deadline is unknown: no Lambda deadline given', async () => {
    expect((await call(slow(50), request(), { getRemainingTimeInMillis: () => 10_000 })).body).toBe('late');
    expect(
      (await call(slow(50), request(), { awsRequestId: 'r2', getRemainingTimeInMillis: undefined })).body,
    ).toBe('late');
  });

  it('answers normally when the remaining time is not a finite number (a harness with no deadline)', async () => {
    for (const remaining of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const response = await call(slow(50), request(), {
        awsRequestId: `no-deadline-${remaining}`,
        getRemainingTimeInMillis: () => remaining,
      });
      expect(response).toMatchObject({ statusCode: 200, body: 'late' });
    }
  });

  it('lets the late work finish and leave its row', async () => {
    await call(slow(300), request(), { getRemainingTimeInMillis: () => 1_600 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const row = await onlyLogRow();
    expect(row.status_code).toBe(200);
  });
});

describe('an event that is not an HTTP API request (a direct invoke, another integration)', () => {
  const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const restApiEvent = {
    resource: PATH,
    path: PATH,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Body=hello',
    isBase64Encoded: false,
    requestContext: { httpMethod: 'POST', identity: { sourceIp: FROM_IP }, stage: 'prod' },
  };

  it.each([
    ['an empty event', {}, 0, EMPTY_SHA256, '{"query":{},"fields":{}}'],
    [
      'a REST API (payload 1.0) event',
      restApiEvent,
      10,
      null,
      '{"query":{},"fields":{"Body":["[5 chars]"]}}',
    ],
  ])(
    'refuses %s with 404 (no rawPath is the path /) and leaves its one row',
    async (_name, event, bytes, sha, excerpt) => {
      const response = await call(route({ methods: ['GET', 'POST'] }), event as never);
      expect(response.statusCode).toBe(404);
      const row = await onlyLogRow();
      expect(row).toMatchObject({
        endpoint: '',
        method: 'UNKNOWN',
        status_code: 404,
        signature_valid: null,
        source_ip: null,
        error: `path is not ${PATH}`,
      });
      expect(row.payload).toMatchObject({ refused: true, bodyBytes: bytes, queryBytes: 0, excerpt });
      if (sha) expect(row.payload.bodySha256).toBe(sha);
    },
  );

  it('reads a missing method as GET, so a POST route refuses it with 405', async () => {
    const response = await call(route(), { rawPath: PATH } as never);
    expect(response.statusCode).toBe(405);
    expect(await onlyLogRow()).toMatchObject({ method: 'UNKNOWN', status_code: 405, source_ip: null });
  });

  it('logs the path as it came in rawPath: none when only the request context held it', async () => {
    const event = {
      rawQueryString: 'token=let-me-in',
      body: 'Body=hi',
      requestContext: { http: { path: PATH } },
    };
    const response = await call(route({ methods: ['GET'] }), event as never);
    expect(response).toEqual({ statusCode: 200, body: 'got hi' });
    expect(await onlyLogRow()).toMatchObject({ endpoint: '', status_code: 200, signature_valid: true });
  });

  it('logs one it accepts with no method or source it was not given', async () => {
    const event = { rawPath: PATH, rawQueryString: 'token=let-me-in', body: 'Body=hi' };
    const response = await call(route({ methods: ['GET'] }), event as never);
    expect(response).toEqual({ statusCode: 200, body: 'got hi' });
    expect(await onlyLogRow()).toMatchObject({
      endpoint: PATH,
      method: 'UNKNOWN',
      status_code: 200,
      signature_valid: true,
      source_ip: null,
    });
  });

  it.each([
    ['no request context', {}],
    ['a request context without http', { requestContext: { stage: 'prod' } }],
  ])(
    'spends the budget of sources without an address (%s), and says so by that name',
    async (_name, event) => {
      const warned = vi.spyOn(logger, 'warn');
      await testDb.db.query(
        `INSERT INTO refusal_budget (source_key, window_start, refused) VALUES ('unknown', date_trunc('hour', now()), 20)
       ON CONFLICT (source_key) DO UPDATE SET window_start = EXCLUDED.window_start, refused = 20`,
      );
      await call(route(), event as never, { awsRequestId: 'req-no-address' });
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('refusal budget exhausted'), {
        route: NAME,
        source: 'unknown',
      });
    },
  );
});
