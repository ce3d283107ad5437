import { DatabaseUnavailableError, getDb } from '../db/index.js';
import { defer, defineAction } from '../ingest/action.js';
import { logger } from '../observability.js';
import { insertParams, insertSql, type PendingLog, type WebhookLogRow } from './log-row.js';
import { maskPayload } from './mask.js';
import type { WebhookRequest } from './request.js';

export { carryingPendingLog, type PendingLog, type WebhookLogRow, withPendingLog } from './log-row.js';

export const insertWebhookLog = defineAction('webhook_logs.insert', async (db, row: WebhookLogRow) => {
  await db.query(insertSql(0), insertParams(row));
});

/** The masked view of a request kept in webhook_logs.payload: query and body fields, never secrets or PHI. */
export function loggedPayload(request: WebhookRequest | undefined, rawBodyLength: number): unknown {
  if (!request) return { bodyBytes: rawBodyLength };
  return maskPayload({
    query: request.query,
    fields: request.json === undefined ? request.fields : undefined,
    json: request.json,
  });
}

/** Writes the row, or corrects the one already written; never throws, so logging cannot turn an answer into an error. */
export async function writeWebhookLog(row: WebhookLogRow, pending?: PendingLog): Promise<void> {
  try {
    if (pending?.written) {
      if (pending.row.status_code === row.status_code && row.error === null) return;
      await (await getDb()).query(
        'UPDATE webhook_logs SET status_code = $2, error = $3, duration_ms = $4 WHERE request_id = $1',
        [row.request_id, row.status_code, row.error, row.duration_ms],
      );
      return;
    }
    await insertWebhookLog.run(await getDb(), row, { replay: false });
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
      return;
    }
    logger.error('webhook log not written', { error: (error as Error).message, endpoint: row.endpoint });
  }
}
