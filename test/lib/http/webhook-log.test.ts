// What becomes of a request's log row when storing it goes wrong: Postgres down (the row waits in the ingest
// queue), the queue down too (the loss is logged), a row Postgres refuses for its content (written again bare).
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type Db, setDb } from '../../../lib/db/index.js';
import { insertWebhookLog, writeWebhookLog } from '../../../lib/http/index.js';
import { loggedPayload, type WebhookLogRow } from '../../../lib/http/webhook-log.js';
import { logger } from '../../../lib/observability.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { unreachableDb, useTestDb } from '../../support/db.js';

const testDb = useTestDb();

const row = (overrides: Partial<WebhookLogRow> = {}): WebhookLogRow => ({
  provider: 'twilio',
  endpoint: '/webhooks/twilio/sms/status',
  method: 'POST',
  status_code: 204,
  signature_valid: true,
  source_ip: '203.0.113.9',
  duration_ms: 3.5,
  payload: { fields: { MessageStatus: ['sent'] } },
  error: null,
  request_id: 'req-log-1',
  idempotency_token: null,
  raw_request_encrypted: Buffer.from('sealed'),
  ...overrides,
});

const down = unreachableDb();

async function stored() {
  const { rows } = await testDb.db.query<{
    status_code: number;
    payload: unknown;
    error: string | null;
    raw_request_encrypted: Buffer | null;
  }>('SELECT status_code, payload, error, raw_request_encrypted FROM webhook_logs ORDER BY id');
  return rows;
}

beforeEach(() => {
  useConfig();
  localQueues.reset();
  vi.restoreAllMocks();
});

describe('a log row while Postgres is down', () => {
  it('waits in the ingest queue, sealed request as hex, to be written on replay', async () => {
    setDb(down);
    try {
      expect(await writeWebhookLog(row())).toBe(false);
    } finally {
      setDb(testDb.db);
    }
    expect(localQueues.messages('ingest')).toEqual([
      {
        action: 'webhook_logs.insert',
        event: { ...row(), raw_request_encrypted: Buffer.from('sealed').toString('hex') },
      },
    ]);
  });

  it('is logged as lost when the queue is down too, and the answer still goes out', async () => {
    // A queue URL on a closed local port: the send fails without leaving the machine, whatever credentials are set.
    useConfig({ INGEST_QUEUE_URL: 'http://127.0.0.1:9/000000000000/ingest' });
    const logged = vi.spyOn(logger, 'error');
    setDb(down);
    try {
      expect(await writeWebhookLog(row())).toBe(false);
    } finally {
      setDb(testDb.db);
    }
    expect(logged).toHaveBeenCalledWith('webhook log lost to storage outage', {
      endpoint: '/webhooks/twilio/sms/status',
      status: 204,
    });
  });
});

describe('a log row Postgres refuses for its content', () => {
  it('is written again without payload, error text or raw request, so the request keeps its one row', async () => {
    const logged = vi.spyOn(logger, 'error');
    // jsonb refuses the NUL character: the envelope makes text storable, this is the last line of defence.
    const refused = row({ payload: { fields: { Body: ['a\u0000b'] } }, error: 'x'.repeat(300) });
    expect(await writeWebhookLog(refused)).toBe(false);
    expect(await stored()).toEqual([
      {
        status_code: 204,
        payload: { unloggable: true },
        error: 'log row rewritten without payload',
        raw_request_encrypted: null,
      },
    ]);
    expect(logged).toHaveBeenCalledWith('webhook log not written; writing it without payload', {
      error: expect.stringMatching(/unicode|\\u0000|null character/i),
      endpoint: '/webhooks/twilio/sms/status',
    });
  });

  it('is logged as lost when even the bare row cannot be written', async () => {
    const logged = vi.spyOn(logger, 'error');
    const refusing: Db = {
      ...testDb.db,
      query: async () => {
        throw new Error('permission denied for table webhook_logs');
      },
    } as Db;
    setDb(refusing);
    try {
      expect(await writeWebhookLog(row())).toBe(false);
    } finally {
      setDb(testDb.db);
    }
    expect(logged).toHaveBeenLastCalledWith('webhook log lost', {
      error: 'permission denied for table webhook_logs',
    });
  });
});

describe('what is logged of a row that cannot be written', () => {
  it('keeps the error to 200 characters and the endpoint to 100', async () => {
    const logged = vi.spyOn(logger, 'error');
    const reason = `permission denied ${'x'.repeat(300)}`;
    const refusing: Db = {
      ...testDb.db,
      query: async () => {
        throw new Error(reason);
      },
    } as Db;
    setDb(refusing);
    try {
      await writeWebhookLog(row({ endpoint: `/webhooks/${'e'.repeat(150)}` }));
    } finally {
      setDb(testDb.db);
    }
    expect(logged.mock.calls).toEqual([
      [
        'webhook log not written; writing it without payload',
        { error: reason.slice(0, 200), endpoint: `/webhooks/${'e'.repeat(90)}` },
      ],
      ['webhook log lost', { error: reason.slice(0, 200) }],
    ]);
  });

  it('writes a refusal once and quietly when its request id is already logged (a retried invocation)', async () => {
    const logged = vi.spyOn(logger, 'error');
    const refused = { ...row({ request_id: 'req-twice', status_code: 403 }), refused: true };
    expect(await writeWebhookLog(refused)).toBe(false);
    expect(await writeWebhookLog(refused)).toBe(false);
    expect(await stored()).toHaveLength(1);
    expect(logged).not.toHaveBeenCalled();
  });
});

describe('the row as written', () => {
  it('says whether a refusal found its budget just spent, and never for an accepted request', async () => {
    expect(await insertWebhookLog.run(testDb.db, row(), { replay: false })).toEqual({
      budgetExhausted: false,
    });
    const refused = { ...row({ request_id: 'req-refused-1', status_code: 403 }), refused: true };
    expect(await insertWebhookLog.run(testDb.db, refused, { replay: false })).toEqual({
      budgetExhausted: false,
    });
  });

  it('keeps the fields of a form, the JSON of a JSON body, and only the size of what could not be read', () => {
    expect(loggedPayload(undefined, 42)).toEqual({ bodyBytes: 42 });
    const form = { query: {}, fields: { Body: ['hello'] }, json: undefined };
    expect(loggedPayload(form as never, 10)).toEqual({ query: {}, fields: { Body: ['[5 chars]'] } });
    const json = { query: {}, fields: { a: ['1'] }, json: { a: 'ok' } };
    expect(loggedPayload(json as never, 10)).toEqual({ query: {}, json: { a: '[2 chars]' } });
  });
});
