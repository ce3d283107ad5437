import { describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../lib/db/index.js';
import { carryingPendingLog, insertParams, type PendingLog, withLogRow } from '../../../lib/http/log-row.js';
import { useTestDb } from '../../support/db.js';

/** The request's log row rides on its first statement, whatever the statement's shape. */

const testDb = useTestDb();

const pending = (requestId: string): PendingLog => ({
  started: performance.now(),
  written: false,
  row: {
    provider: 'twilio',
    endpoint: '/webhooks/twilio/sms/status',
    method: 'POST',
    status_code: 204,
    signature_valid: true,
    source_ip: '127.0.0.1',
    duration_ms: 0,
    payload: { fields: { MessageStatus: ['delivered'] } },
    error: null,
    request_id: requestId,
    idempotency_token: null,
  },
});

const logRows = async () =>
  (
    await testDb.db.query<{ request_id: string; status_code: number }>(
      'SELECT request_id, status_code FROM webhook_logs ORDER BY id',
    )
  ).rows;

describe('the pending log row', () => {
  it('joins the select list of a statement that is one function call, and any other statement as a CTE', () => {
    expect(withLogRow('SELECT changed FROM store_message_status($1, $2) AS changed', 2)).toBe(
      'SELECT changed, write_webhook_log($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS __webhook_logged ' +
        'FROM store_message_status($1, $2) AS changed',
    );
    expect(withLogRow('UPDATE calls SET status = $1', 1)).toMatch(
      /^WITH __webhook_log AS \(INSERT INTO webhook_logs/,
    );
    expect(withLogRow('WITH x AS (SELECT 1) SELECT * FROM x', 0)).toMatch(
      /^WITH __webhook_log AS \(INSERT INTO webhook_logs[\s\S]*\), x AS \(SELECT 1\) SELECT \* FROM x$/,
    );
  });

  it('is written by a later statement when the function call returned no row', async () => {
    // Prepare
    const log = pending('req-empty');
    const db = carryingPendingLog(testDb.db, log);

    // Act
    const first = await db.query('SELECT m FROM regexp_matches($1, $2) AS m', ['abc', 'x']);
    expect(withLogRow('SELECT m FROM regexp_matches($1, $2) AS m', 2)).toContain('write_webhook_log(');
    const writtenAfterFirst = log.written;
    await db.query('SELECT count(*)::int AS n FROM calls WHERE status = $1', ['busy']);

    // Assess
    expect(first.rows).toEqual([]);
    expect(writtenAfterFirst).toBe(false);
    expect(await logRows()).toEqual([{ request_id: 'req-empty', status_code: 204 }]);
  });

  it.each([
    ['one function call', 'SELECT rank FROM message_status_rank($1) AS rank', ['delivered']],
    ['any other statement', 'SELECT count(*)::int AS n FROM calls WHERE status = $1', ['busy']],
  ])('is written once, with the first statement only, for %s', async (_shape, text, params) => {
    // Prepare
    const log = pending(`req-${text.length}`);
    const db = carryingPendingLog(testDb.db, log);

    // Act
    const first = await db.query(text, params);
    await db.query(text, params);

    // Assess
    expect(first.rows).toHaveLength(1);
    expect(Object.keys(first.rows[0]!)).not.toContain('__webhook_logged');
    expect(withLogRow(text, params.length)).toContain(
      text.includes('message_status_rank') ? 'write_webhook_log(' : 'INSERT INTO webhook_logs',
    );
    expect(log.written).toBe(true);
    expect(await logRows()).toEqual([{ request_id: log.row.request_id, status_code: 204 }]);
  });

  it('joins a WITH statement however it is indented, and only a WITH that opens the statement', () => {
    expect(withLogRow('\n    WITH x AS (SELECT 1) SELECT * FROM x', 0)).toMatch(
      /^WITH __webhook_log AS \(INSERT INTO webhook_logs[\s\S]*\), x AS \(SELECT 1\) SELECT \* FROM x$/,
    );
    expect(withLogRow('SELECT * FROM unnest($1::int[]) WITH ORDINALITY AS u', 1)).toMatch(
      /^WITH __webhook_log AS \(INSERT INTO webhook_logs[\s\S]*\) SELECT \* FROM unnest\(\$1::int\[\]\) WITH ORDINALITY AS u$/,
    );
  });

  it('joins a statement that says WITH later, not at its start, as a CTE in front of it', async () => {
    const log = pending('req-with-later');
    const text = "SELECT 'done with it' AS note";
    expect(withLogRow(text, 0)).toMatch(
      /^WITH __webhook_log AS \(INSERT INTO webhook_logs[\s\S]*\) SELECT 'done with it' AS note$/,
    );
    await carryingPendingLog(testDb.db, log).query(text);
    expect(await logRows()).toEqual([{ request_id: 'req-with-later', status_code: 204 }]);
  });

  it('is written by a statement of any other shape even when it returns no row', async () => {
    const log = pending('req-no-rows');
    const db = carryingPendingLog(testDb.db, log);
    const first = await db.query("UPDATE calls SET status = status WHERE provider_call_id = 'no-such-call'");
    const writtenByFirst = log.written;
    await db.query('SELECT count(*)::int AS n FROM calls');
    expect(first.rows).toEqual([]);
    expect(writtenByFirst).toBe(true);
    expect(await logRows()).toEqual([{ request_id: 'req-no-rows', status_code: 204 }]);
  });

  it('rides on nothing when there is no row to carry, it is written already, or it has no request id', () => {
    const written = { ...pending('req-done'), written: true };
    const anonymous = pending('x');
    anonymous.row.request_id = null;
    expect(carryingPendingLog(testDb.db, undefined)).toBe(testDb.db);
    expect(carryingPendingLog(testDb.db, written)).toBe(testDb.db);
    expect(carryingPendingLog(testDb.db, anonymous)).toBe(testDb.db);
  });

  it('sends the later statements as they are, and times the row at its first statement', async () => {
    const sent: string[] = [];
    const spying = {
      ...testDb.db,
      query: (text: string, params?: readonly unknown[]) => {
        sent.push(text);
        return testDb.db.query(text, params);
      },
    } as Db;
    const log = pending('req-later');
    log.started = performance.now() - 12.345;
    const db = carryingPendingLog(spying, log);
    await db.query('SELECT count(*)::int AS n FROM calls');
    await db.query('SELECT count(*)::int AS n FROM sms_messages');
    expect(sent[0]).toContain('INSERT INTO webhook_logs');
    expect(sent[1]).toBe('SELECT count(*)::int AS n FROM sms_messages');
    expect(log.row.duration_ms).toBeGreaterThanOrEqual(12.34);
    expect(log.row.duration_ms).toBeLessThan(5_000);
    expect(Number(log.row.duration_ms.toFixed(2))).toBe(log.row.duration_ms);
  });

  it('rides on the first statement of a transaction too, and closes the database it wraps', async () => {
    const log = pending('req-tx');
    const close = vi.fn(async () => undefined);
    const db = carryingPendingLog({ ...testDb.db, close } as Db, log);
    await db.transaction(async (tx) => {
      await tx.query('SELECT count(*)::int AS n FROM calls');
    });
    expect(await logRows()).toEqual([{ request_id: 'req-tx', status_code: 204 }]);
    await db.close();
    expect(close).toHaveBeenCalledOnce();
  });

  it('sends no sealed request as null, and a sealed one as hex', () => {
    const row = pending('req-raw').row;
    expect(insertParams({ ...row, raw_request_encrypted: undefined }).at(-1)).toBeNull();
    expect(insertParams({ ...row, raw_request_encrypted: Buffer.from([0xab, 0x01]) }).at(-1)).toBe('ab01');
    expect(insertParams({ ...row, raw_request_encrypted: 'cd02' }).at(-1)).toBe('cd02');
  });
});
