import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { type Config, getConfig } from '../config.js';
import type { Queryable } from '../db/index.js';
import { routePath } from '../http/route-path.js';
import { openRequest } from '../http/sealed-request.js';
import { readFunctions } from '../local/routes.js';

export interface ReplaySelection {
  ids?: number[];
  from?: string;
  to?: string;
  /** Include entries that were refused (4xx) the first time. Off by default: they were refused for a reason. */
  includeRefused?: boolean;
}

export interface ReplayResult {
  id: number;
  endpoint: string;
  before: number;
  after?: number;
  skipped?: string;
  /** Refused or failed again, or could not run: the command exits non-zero. */
  failed?: boolean;
}

/** The secrets an entry's caller check needs, named as the operator sets them (env or SSM). */
function missingSecrets(endpoint: string, config: Config): string | undefined {
  if (endpoint.startsWith('/webhooks/twilio/') && !config.twilio.authToken)
    return "TWILIO_AUTH_TOKEN unset: give the stage's secrets (SSM_PREFIX or env) and WEBHOOK_BASE_URL";
  if (endpoint.startsWith('/webhooks/voipms/') && !config.voipms.webhookToken)
    return "VOIPMS_WEBHOOK_TOKEN unset: give the stage's secrets (SSM_PREFIX or env)";
  return undefined;
}

/** Whether any entry was refused or failed on replay, or could not be replayed though it was lost. */
export function replayFailed(results: readonly ReplayResult[]): boolean {
  return results.some((result) => result.failed);
}

type Handler = (event: unknown, context: Context) => Promise<{ statusCode: number }>;

/**
 * Re-processes logged webhooks through the same handlers, from their sealed raw requests. Every action is
 * idempotent, so replaying something already stored changes nothing; what was lost (a 5xx/503) is stored now.
 * Each replay writes its own webhook_logs row.
 */
export async function replay(
  db: Queryable,
  selection: ReplaySelection,
  options: {
    root: string;
    key: Buffer;
    onProgress?: (done: number, total: number) => void;
    /** The stage's configuration the handlers verify with; the process's own by default. */
    config?: Config;
  },
): Promise<ReplayResult[]> {
  const config = options.config ?? (await getConfig());
  if (!selection.ids?.length && !selection.from)
    throw new Error('replay needs --id or --from (and optionally --to)');
  const where = selection.ids?.length
    ? 'id = ANY($1::bigint[])'
    : 'created_at >= $1::timestamptz AND created_at < $2::timestamptz';
  const params = selection.ids?.length
    ? [selection.ids]
    : [selection.from, selection.to ?? new Date().toISOString()];
  const { rows } = await db.query<{
    id: number;
    endpoint: string;
    method: string;
    status_code: number;
    sealed: Buffer | null;
  }>(
    `SELECT id, endpoint, method, status_code, raw_request_encrypted AS sealed FROM webhook_logs WHERE ${where} ORDER BY id`,
    params,
  );
  const functions = readFunctions(join(options.root, 'serverless.yml'));
  const handlers = new Map<string, Handler>();
  const results: ReplayResult[] = [];
  for (const [index, row] of rows.entries()) {
    options.onProgress?.(index + 1, rows.length);
    const result: ReplayResult = { id: row.id, endpoint: row.endpoint, before: row.status_code };
    results.push(result);
    if (!row.sealed) {
      result.skipped = 'raw request not kept (REPLAY_KEY unset when it arrived)';
      if (row.status_code >= 500) result.failed = true; // lost, and cannot be replayed
      continue;
    }
    if (row.status_code >= 400 && row.status_code < 500 && !selection.includeRefused) {
      result.skipped = 'refused the first time';
      continue;
    }
    // Without the stage's secrets the handler's caller check would refuse a good request (and log a 403).
    const missing = missingSecrets(row.endpoint, config);
    if (missing) {
      result.skipped = missing;
      result.failed = true;
      continue;
    }
    // The handler is chosen by the sealed (authenticated) path, never by the plaintext endpoint column.
    const event = openRequest(Buffer.from(row.sealed), options.key);
    const sealedPath = routePath(event);
    const fn = functions.find((f) => f.http.some((route) => route.path === sealedPath));
    if (!fn) {
      result.skipped = 'no function serves the sealed path';
      continue;
    }
    if (sealedPath !== row.endpoint && event.rawPath !== row.endpoint) {
      result.skipped = 'endpoint column does not match the sealed path';
      continue;
    }
    if (!handlers.has(fn.name)) {
      const module = (await import(pathToFileURL(join(options.root, `${fn.file}.ts`)).href)) as {
        handler: Handler;
      };
      handlers.set(fn.name, module.handler);
    }
    const context = { awsRequestId: `replay-${row.id}-${randomUUID()}`, functionName: fn.name } as Context;
    result.after = (await handlers.get(fn.name)!(event, context)).statusCode;
    if (result.after >= 400) result.failed = true;
  }
  return results;
}
