import { describe, expect, it } from 'vitest';
import { carryingPendingLog, type PendingLog, withLogRow } from '../../../lib/http/log-row.js';
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
});
