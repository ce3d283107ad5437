import type { Db, Queryable } from './types.js';

/**
 * Embedded Postgres for the local run and for tests without a server. Imported dynamically so Lambda
 * bundles never carry it. It runs one statement at a time, which is fine for one local user.
 */
export async function createPgliteDb(dataDir?: string): Promise<Db> {
  const { PGlite, types } = await import('@electric-sql/pglite');
  const parsers = { [types.INT8]: Number, [types.NUMERIC]: Number };
  const lite = await PGlite.create(dataDir, { parsers });
  const wrap = (target: Pick<typeof lite, 'query' | 'exec'>): Queryable => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      // Without parameters, use the simple protocol as `pg` does: it allows several statements (migrations).
      const result = params
        ? await target.query<R>(text, params as unknown[])
        : ((await target.exec(text)).at(-1) ?? { rows: [], affectedRows: 0 });
      return { rows: result.rows as R[], rowCount: result.affectedRows ?? result.rows.length };
    },
  });
  return {
    kind: 'pglite',
    ...wrap(lite),
    transaction: (work) => lite.transaction((tx) => work(wrap(tx))),
    // One connection is all PGlite has.
    session: (work) => work(wrap(lite)),
    close: () => lite.close(),
  };
}
