import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
    vi.restoreAllMocks();
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

  it('sets the session bound before the first query of a new connection, one statement at a time', async () => {
    // Prepare: what each connection is sent, and when each statement has its answer (node-pg warns, and its
    // next major refuses, when a query is sent to a connection still busy with another)
    const events: string[] = [];
    const send = pg.Client.prototype.query;
    function recordingQuery(this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text: string };
      const text = (typeof config === 'string' ? config : config.text).split(' ').slice(0, 2).join(' ');
      events.push(`sent ${text}`);
      const callback = args.at(-1);
      if (typeof callback === 'function')
        args[args.length - 1] = (...answer: unknown[]) => {
          events.push(`answered ${text}`);
          return callback(...answer);
        };
      const result = (send as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) return result.finally(() => events.push(`answered ${text}`));
      return result;
    }
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(recordingQuery as typeof send);
    const db = open({ connectionString: serverUrl!, timeoutMs: 2000, statementTimeoutMs: 700 });

    // Act: the query that opens the connection reads the bound
    const { rows } = await db.query<{ statement_timeout: string }>('SHOW statement_timeout');

    // Assess
    expect(rows[0]?.statement_timeout).toBe('700ms');
    expect(events).toEqual([
      'sent SET statement_timeout',
      'answered SET statement_timeout',
      'sent SHOW statement_timeout',
      'answered SHOW statement_timeout',
    ]);
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
