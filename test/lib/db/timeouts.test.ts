import { afterEach, describe, expect, it } from 'vitest';
import { setConfig } from '../../../lib/config.js';
import { createPgDb, type Db, getDb, setDb } from '../../../lib/db/index.js';
import { useConfig } from '../../support/config.js';
import { serverUrl } from '../../support/db.js';

// Server-side timeouts need a real Postgres (PGlite has no statement_timeout worth the name).
describe.skipIf(!serverUrl)('database timeouts (real Postgres)', () => {
  const opened: Db[] = [];
  const open = (options: Parameters<typeof createPgDb>[0]) => {
    const db = createPgDb(options);
    opened.push(db);
    return db;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
    setDb(undefined);
    setConfig(undefined);
  });

  it('cancels a statement on the server before the client bound, so a client timeout means no commit', async () => {
    // Prepare
    const db = open({ connectionString: serverUrl!, timeoutMs: 2000, statementTimeoutMs: 300 });

    // Act
    const started = Date.now();
    const running = db.query('SELECT pg_sleep(1.5)');

    // Assess: Postgres cancelled it (57014 query_canceled), well before the client would have given up; the
    // webhook path treats it as the database being unavailable (the event goes to the ingest queue)
    await expect(running).rejects.toMatchObject({
      name: 'DatabaseUnavailableError',
      cause: { code: '57014' },
    });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('binds statements inside a transaction, even behind a transaction pooler', async () => {
    // Prepare: transaction mode sets nothing on the session
    const db = open({
      connectionString: serverUrl!,
      timeoutMs: 2000,
      statementTimeoutMs: 250,
      poolMode: 'transaction',
    });

    // Act
    const inside = db.transaction(async (tx) => {
      const shown = await tx.query<{ statement_timeout: string }>('SHOW statement_timeout');
      await tx.query('SELECT pg_sleep(1)');
      return shown.rows[0]?.statement_timeout;
    });

    // Assess
    await expect(inside).rejects.toMatchObject({ cause: { code: '57014' } });
    const { rows } = await db.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(rows[0]?.statement_timeout).toBe('0'); // nothing left on the (shared) server connection
  });

  it('gives each kind of work its own bounds through getDb', async () => {
    for (const [work, expected] of [
      ['webhook', '1500ms'],
      ['job', '45s'],
      ['batch', '225s'],
    ] as const) {
      // Prepare
      useConfig({ DATABASE_URL: serverUrl, DB_WORK: work, DB_TIMEOUT_MS: undefined });
      setDb(undefined);

      // Act
      const db = await getDb();
      opened.push(db);
      const { rows } = await db.query<{ statement_timeout: string }>('SHOW statement_timeout');

      // Assess
      expect(rows[0]?.statement_timeout, work).toBe(expected);
    }
  });
});
