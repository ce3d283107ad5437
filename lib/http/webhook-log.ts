import { DatabaseUnavailableError, getDb } from '../db/index.js';
import { defer, defineAction } from '../ingest/action.js';
import { logger } from '../observability.js';
import { insertParams, insertSql, type PendingLog, type WebhookLogRow } from './log-row.js';
import { maskPayload } from './mask.js';
import { REFUSED_INSERT_SQL, refusedInsertParams } from './refusal-log.js';
import type { WebhookRequest } from './request.js';

export { carryingPendingLog, type PendingLog, type WebhookLogRow } from './log-row.js';

/** Inserts the row; a refused one spends its source's budget and reports whether it just ran out. */
export const insertWebhookLog = defineAction(
  'webhook_logs.insert',
  async (db, row: WebhookLogRow): Promise<{ budgetExhausted: boolean }> => {
    if (!row.refused) {
      await db.query(insertSql(0), insertParams(row));
      return { budgetExhausted: false };
    }
    const { rows } = await db.query<{ exhausted: boolean }>(REFUSED_INSERT_SQL, refusedInsertParams(row));
    return { budgetExhausted: rows[0]?.exhausted === true };
  },
);

/** The masked view of a request kept in webhook_logs.payload: query and body fields, never secrets or PHI. */
export function loggedPayload(request: WebhookRequest | undefined, rawBodyLength: number): unknown {
  if (!request) return { bodyBytes: rawBodyLength };
  return maskPayload({
    query: request.query,
    fields: request.json === undefined ? request.fields : undefined,
    json: request.json,
  });
}

/** The row already rode on the handler's statement and says what happened: nothing more to write. */
export const logRowStands = (pending: PendingLog | undefined, statusCode: number, error: unknown): boolean =>
  pending?.written === true && pending.row.status_code === statusCode && !error;

/**
 * Writes the row, or corrects the one already written (the caller skips a row that stands, logRowStands);
 * never throws, so logging cannot turn an answer into an error. Resolves true when a refused row found its
 * source's budget just exhausted.
 */
export async function writeWebhookLog(row: WebhookLogRow, pending?: PendingLog): Promise<boolean> {
  try {
    if (pending?.written) {
      await (await getDb()).query(
        'UPDATE webhook_logs SET status_code = $2, error = $3, duration_ms = $4 WHERE request_id = $1',
        [row.request_id, row.status_code, row.error, row.duration_ms],
      );
      return false;
    }
    return (await insertWebhookLog.run(await getDb(), row)).budgetExhausted;
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) {
      const sealed = row.raw_request_encrypted;
      const portable = {
        ...row,
        raw_request_encrypted: Buffer.isBuffer(sealed) ? sealed.toString('hex') : sealed,
      };
      await defer(insertWebhookLog.name, portable).catch(() =>
        logger.error('webhook log lost to storage outage', {
          endpoint: row.endpoint,
          status: row.status_code,
        }),
      );
      return false;
    }
    return writeBareLog(row, error as Error);
  }
}

/**
 * The row refused by Postgres for its content (it should not happen: the envelope makes text storable):
 * written again without payload or error text, so the request still leaves its one row.
 */
async function writeBareLog(row: WebhookLogRow, cause: Error): Promise<boolean> {
  logger.error('webhook log not written; writing it without payload', {
    error: cause.message.slice(0, 200),
    endpoint: row.endpoint.slice(0, 100),
  });
  try {
    const bare = { ...row, payload: { unloggable: true }, error: 'log row rewritten without payload' };
    await insertWebhookLog.run(await getDb(), { ...bare, raw_request_encrypted: null });
  } catch (error) {
    logger.error('webhook log lost', { error: (error as Error).message.slice(0, 200) });
  }
  return false;
}
