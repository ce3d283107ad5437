import pg from 'pg';
import { DatabaseUnavailableError, type Db, type Queryable, type QueryResult } from './types.js';

export interface PgDbOptions {
  connectionString: string;
  /** One connection per Lambda container; more for the local gateway and tests. */
  max?: number;
  /** Bound on connecting and on each query, so a dead database fails fast. */
  timeoutMs?: number;
  /**
   * Server-side `statement_timeout`, set below `timeoutMs` so a statement the client gave up on was cancelled
   * by the server and cannot have committed. Unset: the server's own setting.
   */
  statementTimeoutMs?: number;
  /**
   * `session` (direct, RDS Proxy, session poolers): also set for every statement of the connection, once when
   * it opens. `transaction` (Supavisor port 6543, PgBouncer transaction mode): a session setting would stay on
   * the shared server connection and bind other clients, so it is set only inside our own transactions.
   */
  poolMode?: 'session' | 'transaction';
}

// bigint counts and ids fit in a JS number here; numeric (cost) as a number too.
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Errors that mean "the database is not there", as opposed to a bad statement. */
function isUnavailable(error: unknown): boolean {
  const err = error as { code?: string; message?: string };
  if (err.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|57P0[123]|08\w{3})$/.test(err.code))
    return true;
  return /timeout|Connection terminated|connect ECONN|the database system is (starting|shutting)/i.test(
    err.message ?? '',
  );
}

async function run<R>(client: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]) {
  try {
    // Unnamed statements only: transaction poolers (Supabase, RDS Proxy) break or pin on named ones.
    const result = await client.query({ text, values: params as unknown[], types });
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 } satisfies QueryResult<R>;
  } catch (error) {
    throw isUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  }
}

export function createPgDb({
  connectionString,
  max = 1,
  timeoutMs = 2000,
  statementTimeoutMs,
  poolMode = 'session',
}: PgDbOptions): Db {
  if (statementTimeoutMs !== undefined && !(Number.isInteger(statementTimeoutMs) && statementTimeoutMs > 0)) {
    throw new Error(`statementTimeoutMs must be a positive integer, got ${statementTimeoutMs}`);
  }
  // Behind a transaction pooler, set in the same round trip as BEGIN: scoped to the transaction, so it holds
  // whichever server connection the pooler picks. In session mode the connection already carries it.
  const begin =
    statementTimeoutMs && poolMode === 'transaction'
      ? `BEGIN; SET LOCAL statement_timeout = ${statementTimeoutMs}`
      : 'BEGIN';
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idleTimeoutMillis: 60_000,
    allowExitOnIdle: true,
    // Awaited on a new connection before the query that opened it: one extra round trip per connection.
    ...(statementTimeoutMs && poolMode === 'session'
      ? {
          onConnect: (client: pg.ClientBase) =>
            client.query(`SET statement_timeout = ${statementTimeoutMs}`).then(
              () => undefined,
              () => undefined,
            ),
        }
      : {}),
  });
  pool.on('error', () => {
    // An idle connection dropped by the server: the pool replaces it on next use.
  });
  const connect = () =>
    pool.connect().catch((error: unknown) => {
      throw new DatabaseUnavailableError(error);
    });
  return {
    kind: 'pg',
    query: (text, params) => run(pool, text, params),
    async transaction(work) {
      const client = await connect();
      const tx: Queryable = { query: (text, params) => run(client, text, params) };
      try {
        await client.query(begin);
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async session(work) {
      const client = await connect();
      try {
        return await work({ query: (text, params) => run(client, text, params) });
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
