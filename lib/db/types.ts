export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs one SQL statement: the database itself or a transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** The one interface the code talks to, whether Postgres through `pg` or embedded PGlite. */
export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `work` on one connection of its own, outside any transaction: for statements that must share a session
   * (a BEGIN sent apart from what it covers, as the migration runner does) while other work uses the pool.
   */
  session<T>(work: (connection: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Postgres could not be reached or did not answer in time: the caller may fall back to the ingest queue. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}
