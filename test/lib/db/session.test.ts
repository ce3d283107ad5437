import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDb, type Db } from '../../../lib/db/index.js';
import { migrate } from '../../../lib/db/migrate.js';
import { serverUrl } from '../../support/db.js';

// A pool hands each statement to whichever connection is free; a session keeps one. Real Postgres only (PGlite
// has a single connection).
describe.skipIf(!serverUrl)('one connection of its own while the pool serves others (real Postgres)', () => {
  const name = `pw_session_${process.pid}`;
  let admin: pg.Client;
  let db: Db;
  let dir: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: serverUrl! });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    db = createPgDb({ connectionString: url.toString(), max: 6 });
    dir = mkdtempSync(join(tmpdir(), 'pw-migrations-'));
  });

  afterAll(async () => {
    await db?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Other work on the pool until `done`: every connection in turn busy and free again. */
  async function busyPool(done: () => boolean) {
    const worker = async () => {
      while (!done()) await db.query('SELECT pg_sleep(0.002)');
    };
    await Promise.all(Array.from({ length: 5 }, worker));
  }

  it('sends every statement of the work to one backend', async () => {
    let finished = false;
    const others = busyPool(() => finished);
    const pids = await db
      .session(async (connection) => {
        const seen: number[] = [];
        for (let i = 0; i < 20; i++) {
          const { rows } = await connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          seen.push(rows[0]!.pid);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return seen;
      })
      .finally(() => {
        finished = true;
      });
    await others;
    expect(new Set(pids).size).toBe(1);
  });

  it('runs each migration inside the transaction the runner opened for it, however busy the pool', async () => {
    // A SAVEPOINT is refused outside a transaction block: the migration fails if its BEGIN went elsewhere.
    for (let i = 1; i <= 12; i++) {
      const number = String(i).padStart(3, '0');
      writeFileSync(
        join(dir, `${number}_step.sql`),
        `-- Up Migration\nSAVEPOINT inside;\nCREATE TABLE step_${number} (id int);\nRELEASE SAVEPOINT inside;\n` +
          `-- Down Migration\nDROP TABLE step_${number};\n`,
      );
    }
    let finished = false;
    const others = busyPool(() => finished);
    const applied = await migrate(db, { dir }).finally(() => {
      finished = true;
    });
    await others;
    expect(applied).toHaveLength(12);
  });
});
