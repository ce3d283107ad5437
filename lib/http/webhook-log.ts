import { DatabaseUnavailableError, getDb } from '../db/index.js';
import { defer, defineAction } from '../ingest/action.js';
import { logger } from '../observability.js';
import { maskPayload } from './mask.js';
import type { WebhookRequest } from './request.js';

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
  request_id: string | null;
  idempotency_token: string | null;
  /** Sealed raw request for replay (see sealed-request.ts); a hex string when deferred through the queue. */
  raw_request_encrypted?: Buffer | string | null;
}

export const insertWebhookLog = defineAction('webhook_logs.insert', async (db, row: WebhookLogRow) => {
  await db.query(
    `INSERT INTO webhook_logs (provider, endpoint, method, status_code, signature_valid, source_ip, duration_ms,
       payload, error, request_id, idempotency_token, raw_request_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, decode($12, 'hex'))`,
    [
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
      Buffer.isBuffer(row.raw_request_encrypted)
        ? row.raw_request_encrypted.toString('hex')
        : (row.raw_request_encrypted ?? null),
    ],
  );
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

/** Writes the row; never throws, so logging can never turn an answer into an error. */
export async function writeWebhookLog(row: WebhookLogRow): Promise<void> {
  try {
    await insertWebhookLog.run(await getDb(), row);
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) {
      const portable = {
        ...row,
        raw_request_encrypted: Buffer.isBuffer(row.raw_request_encrypted)
          ? row.raw_request_encrypted.toString('hex')
          : row.raw_request_encrypted,
      };
      await defer(insertWebhookLog.name, portable).catch(() =>
        logger.error('webhook log lost to storage outage', { row }),
      );
      return;
    }
    logger.error('webhook log not written', { error: (error as Error).message, endpoint: row.endpoint });
  }
}
