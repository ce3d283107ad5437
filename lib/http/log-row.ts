import type { Db, Queryable } from '../db/index.js';

export interface WebhookLogRow {
  provider: string;
  endpoint: string;
  method: string;
  status_code: number;
  signature_valid: boolean | null;
  source_ip: string | null;
  duration_ms: number;
  payload: unknown;
  error: string | null;
  /** The invocation's id: one row per request, so a log deferred and written twice is kept once. */
  request_id: string | null;
  idempotency_token: string | null;
  /** Refused before the caller was recognised: written small and within the refusal budget (refusal-log.ts). */
  refused?: boolean;
  /** Sealed raw request for replay (see sealed-request.ts); a hex string when deferred through the queue. */
  raw_request_encrypted?: Buffer | string | null;
}

const COLUMNS = `provider, endpoint, method, status_code, signature_valid, source_ip, duration_ms, payload, error,
  request_id, idempotency_token, raw_request_encrypted`;

/** `INSERT … VALUES ($n+1 … $n+12)` for a row whose parameters follow `offset` others. */
export function insertSql(offset: number): string {
  const p = (i: number) => `$${offset + i}`;
  return `INSERT INTO webhook_logs (${COLUMNS})
    VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)},
      decode(${p(12)}, 'hex'))
    ON CONFLICT (request_id) DO NOTHING`;
}

export function insertParams(row: WebhookLogRow): unknown[] {
  const sealed = row.raw_request_encrypted;
  return [
    row.provider,
    row.endpoint,
    row.method,
    row.status_code,
    row.signature_valid,
    row.source_ip,
    row.duration_ms,
    JSON.stringify(row.payload),
    row.error,
    row.request_id,
    row.idempotency_token,
    Buffer.isBuffer(sealed) ? sealed.toString('hex') : (sealed ?? null),
  ];
}

/**
 * The request's log row, waiting to ride on the first statement the handler sends, so that a webhook costs
 * one Postgres round trip, not two. It carries the answer the route gives on success; if the answer turns out
 * different, the envelope corrects the row afterwards (a rare, second round trip).
 */
export interface PendingLog {
  row: WebhookLogRow;
  started: number;
  written: boolean;
}

/** A statement that is one function call and nothing else: `SELECT <columns> FROM f($1, …)`, maybe aliased. */
const ONE_FUNCTION_CALL = /^\s*SELECT\s[\w\s,]+\sFROM\s+\w+\((?:\s*\$\d+\s*,?)*\)(?:\s+AS)?(?:\s+\w+)?\s*$/i;

const withLogRowCache = new Map<string, string>();

/** The output column of write_webhook_log: present in a row when the log row was written with it. */
const LOGGED = '__webhook_logged';

/**
 * The statement with the log row added: a statement that is one function call (the hot paths' statements) gets
 * `write_webhook_log(…)` in its select list, cheap to plan and run once the function has returned its row (so
 * the log row's key is not held while the function waits on a lock); any other gets the INSERT as a
 * data-modifying CTE. Either way Postgres runs it with the statement, in the same transaction.
 */
export function withLogRow(text: string, offset: number): string {
  const key = `${offset}:${text}`;
  let statement = withLogRowCache.get(key);
  if (statement === undefined) {
    statement = addLogRow(text, offset);
    // Statements are the code's own constants: a handful, kept for the container's life.
    if (withLogRowCache.size < 200) withLogRowCache.set(key, statement);
  }
  return statement;
}

function addLogRow(text: string, offset: number): string {
  if (ONE_FUNCTION_CALL.test(text)) {
    const p = Array.from({ length: 12 }, (_, i) => `$${offset + i + 1}`).join(', ');
    return text.replace(/\sFROM\s/i, `, write_webhook_log(${p}) AS ${LOGGED} FROM `);
  }
  const log = `__webhook_log AS (${insertSql(offset)})`;
  return /^\s*WITH\s/i.test(text) ? text.replace(/^\s*WITH\s/i, `WITH ${log}, `) : `WITH ${log} ${text}`;
}

/**
 * The database, with the request's pending log row added to its first statement (withLogRow). The row is handed
 * in by the route (RouteContext.pendingLog) rather than found in an AsyncLocalStorage: on Node 20 and 22 one
 * AsyncLocalStorage in use puts an async hook on every promise of the process, a cost on every request.
 */
export function carryingPendingLog(db: Db, pending: PendingLog | undefined): Db {
  if (!pending || pending.written || !pending.row.request_id) return db;
  const carry = (target: Queryable): Queryable => ({
    async query<R>(text: string, params: readonly unknown[] = []) {
      if (pending.written) return target.query<R>(text, params);
      pending.row.duration_ms = Math.round((performance.now() - pending.started) * 100) / 100;
      const statement = withLogRow(text, params.length);
      const result = await target.query<R>(statement, [...params, ...insertParams(pending.row)]);
      if (!statement.includes(LOGGED)) {
        pending.written = true;
        return result;
      }
      // The select-list form writes the row with each result row: none came back, none was written.
      pending.written = result.rows.length > 0;
      for (const row of result.rows) delete (row as Record<string, unknown>)[LOGGED];
      return result;
    },
  });
  return {
    kind: db.kind,
    ...carry(db),
    transaction: (work) => db.transaction((tx) => work(carry(tx))),
    session: (work) => db.session((connection) => work(carry(connection))),
    close: () => db.close(),
  };
}
