import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { logger } from '../observability.js';
import type { Db, Queryable } from './types.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The `pg` client node-pg-migrate speaks to, answered by our pool or PGlite alike. */
export function migrationClient(db: Queryable) {
  return {
    query: async (statement: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
      const text = typeof statement === 'string' ? statement : statement.text;
      const params = typeof statement === 'string' ? values : statement.values;
      const { rows, rowCount } = await db.query(text, params);
      return { rows, rowCount, command: '', oid: 0, fields: [] };
    },
  };
}

/** A concurrent index build stopped half-way: its invalid index is left, and the migrations stop before its own. */
export class IndexBuildError extends Error {
  constructor(index: string, cause: unknown) {
    super(
      `index ${index} was not built (${(cause as Error)?.message ?? cause}): run the migrations again to drop ` +
        'the invalid index it left and build it anew',
      { cause },
    );
    this.name = 'IndexBuildError';
  }
}

type Say = (message: string) => void;

/**
 * Applies every pending migration in `migrations/` (node-pg-migrate SQL files, each in its own transaction) to
 * the database behind `db`, whether `pg` or PGlite. Re-running is a no-op.
 *
 * A plain CREATE INDEX blocks every write to its table for the whole build, and CREATE INDEX CONCURRENTLY is
 * refused inside the migration's transaction. So before a pending migration runs, its
 * `CREATE [UNIQUE] INDEX IF NOT EXISTS` statements on tables that already exist are built CONCURRENTLY, one
 * statement per query; the migration's own statement then finds the index and does nothing
 * (docs/deployment.md#6-database-migrations).
 */
export async function migrate(
  db: Db,
  { log = false, dir = MIGRATIONS_DIR }: { log?: boolean; dir?: string } = {},
): Promise<string[]> {
  const say: Say = log ? (message) => process.stderr.write(`${message}\n`) : () => undefined;
  const applied: string[] = [];
  // One connection for a whole run: the runner sends BEGIN, each migration and COMMIT as separate statements,
  // which over a shared pool could land on different connections while other work uses it.
  const run = (count?: number) =>
    db.session(async (connection) => {
      const done = await runner({
        dbClient: migrationClient(connection) as never,
        dir,
        migrationsTable: 'pgmigrations',
        direction: 'up',
        ...(count === undefined ? {} : { count }),
        checkOrder: true,
        // A session-level advisory lock: behind a transaction pooler one client connection is not one server
        // session, so it could be taken on one server connection and never released from another.
        noLock: true,
        verbose: false,
        log: say,
      });
      applied.push(...done.map((migration) => migration.name));
    });
  // The migrations before one with indexes to build run first, so its builds see the schema it will run on.
  let before = 0;
  for (const migration of await pendingMigrations(db, dir)) {
    if (migration.indexes.length > 0) {
      if (before > 0) await run(before);
      before = 0;
      for (const index of migration.indexes) await buildConcurrently(db, index, say);
    }
    before += 1;
  }
  await run();
  return applied;
}

interface IndexStatement {
  migration: string;
  name: string;
  table: string;
  /** The statement with CONCURRENTLY, without its semicolon. */
  concurrently: string;
}

/**
 * The files node-pg-migrate has not recorded yet, in its order (by numeric prefix), with their index statements.
 * A database without `pgmigrations` has none: it has no rows whose writes a build could block.
 */
async function pendingMigrations(db: Queryable, dir: string) {
  const [table] = (
    await db.query<{ found: boolean }>(`SELECT to_regclass('public.pgmigrations') IS NOT NULL AS found`)
  ).rows;
  if (!table?.found) return [];
  const recorded = new Set(
    (await db.query<{ name: string }>('SELECT name FROM public.pgmigrations')).rows.map((row) => row.name),
  );
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const pending = [];
  for (const file of files) {
    const name = basename(file, extname(file));
    if (recorded.has(name)) continue;
    const sql = extname(file) === '.sql' ? await readFile(join(dir, file), 'utf8') : '';
    pending.push({ name, indexes: indexStatements(name, sql) });
  }
  return pending;
}

/**
 * `CREATE [UNIQUE] INDEX IF NOT EXISTS <name> ON <table> ...;` at the start of a line, names unquoted. Any other
 * form (no IF NOT EXISTS, quoted names) is left to the migration, built inside its transaction.
 */
const INDEX_IF_NOT_EXISTS =
  /^[ \t]*CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)\s+ON\s+((?:\w+\.)?\w+)\b[^;]*;/gim;

function indexStatements(migration: string, sql: string): IndexStatement[] {
  // Only the Up part, split as node-pg-migrate splits it.
  const up = sql.search(/^\s*--[\s-]*up\s+migration/im);
  const down = sql.search(/^\s*--[\s-]*down\s+migration/im);
  const upSql = sql
    .slice(Math.max(up, 0), down > up ? down : undefined)
    // Function bodies and comments hold no statement of the migration itself.
    .replace(/\$(\w*)\$[\s\S]*?\$\1\$/g, '')
    .replace(/--.*$/gm, '');
  return [...upSql.matchAll(INDEX_IF_NOT_EXISTS)].map(([statement, name, table]) => ({
    migration,
    // The index lives in its table's schema.
    name: table!.includes('.') ? `${table!.split('.')[0]}.${name}` : name!,
    table: table!,
    concurrently: statement
      .trim()
      .replace(/;$/, '')
      .replace(/\bINDEX\s+IF\s+NOT\s+EXISTS\b/i, 'INDEX CONCURRENTLY IF NOT EXISTS'),
  }));
}

/** true or false as pg_index has it; undefined when there is no index of that name. */
async function indexValid(db: Queryable, name: string): Promise<boolean | undefined> {
  const { rows } = await db.query<{ valid: boolean }>(
    'SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)',
    [name],
  );
  return rows[0]?.valid;
}

/**
 * Builds one index CONCURRENTLY, outside any transaction: writes go on while it builds (it waits for the
 * transactions open when it starts). One statement per query: a string of several is one implicit transaction
 * block, where CONCURRENTLY is refused. PGlite takes the same statements.
 */
async function buildConcurrently(db: Queryable, index: IndexStatement, say: Say): Promise<void> {
  // A table the same migration creates has no rows yet: its own statement builds the index.
  const { rows } = await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [
    index.table,
  ]);
  if (!rows[0]?.found) return;
  const valid = await indexValid(db, index.name);
  if (valid) return;
  // A build cut short (timeout, lost connection) leaves an invalid index under the name, which IF NOT EXISTS
  // would keep, the planner never use, and every write still update.
  if (valid === false) {
    say(`> dropping the invalid index ${index.name} an earlier build left`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`);
  }
  say(`> building ${index.name} concurrently for ${index.migration}`);
  try {
    await db.query(index.concurrently);
  } catch (error) {
    // A build that started leaves an invalid index, which the migration would keep and record as done: stop.
    if ((await indexValid(db, index.name).catch(() => false)) === false)
      throw new IndexBuildError(index.name, error);
    // Refused before it started (a column the same migration adds, say): the migration builds it.
    logger.warn(
      'index not built concurrently: its migration builds it, blocking writes to its table meanwhile',
      {
        migration: index.migration,
        index: index.name,
        table: index.table,
        error: (error as Error).message,
      },
    );
  }
}
