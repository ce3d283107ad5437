import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Db } from './types.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies every pending migration in `migrations/` (node-pg-migrate SQL files) to the database behind `db`,
 * whether `pg` or PGlite. Re-running is a no-op.
 */
export async function migrate(db: Db, { log = false }: { log?: boolean } = {}): Promise<string[]> {
  // node-pg-migrate speaks to a `pg` client; this adapter lets PGlite and our pool answer it alike.
  const dbClient = {
    query: async (statement: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      const text = typeof statement === 'string' ? statement : statement.text;
      const params = typeof statement === 'string' ? values : statement.values;
      const { rows, rowCount } = await db.query(text, params);
      return { rows, rowCount, command: '', oid: 0, fields: [] };
    },
  };
  const applied = await runner({
    dbClient: dbClient as never,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'pgmigrations',
    direction: 'up',
    checkOrder: true,
    // The advisory lock needs one session for lock and unlock, which a pool cannot promise.
    noLock: true,
    verbose: false,
    log: log ? (message: string) => process.stderr.write(`${message}\n`) : () => undefined,
  });
  return applied.map((migration) => migration.name);
}
