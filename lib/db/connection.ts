import { join } from 'node:path';
import { getConfig } from '../config.js';
import { createPgDb } from './pg.js';
import type { Db } from './types.js';

let current: Promise<Db> | undefined;

/**
 * The container's database, created once outside the handler and reused across invocations:
 * Postgres when DATABASE_URL is set, else embedded PGlite under the data directory (local run only).
 */
export function getDb(): Promise<Db> {
  current ??= getConfig().then(async (config) => {
    if (config.databaseUrl) {
      return createPgDb({
        connectionString: config.databaseUrl,
        max: config.onLambda ? 1 : 10,
        timeoutMs: config.dbTimeoutMs,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        poolMode: config.dbPoolMode,
      });
    }
    if (config.onLambda) throw new Error('DATABASE_URL is required on Lambda');
    const { createPgliteDb } = await import('./pglite.js');
    return createPgliteDb(join(config.dataDir, 'pglite'));
  });
  return current;
}

/** Tests and the local gateway hand in the database they made. */
export function setDb(db: Db | undefined): void {
  current = db ? Promise.resolve(db) : undefined;
}
