import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createPgDb, DatabaseUnavailableError, type Db, setDb } from '../../lib/db/index.js';
import { migrate } from '../../lib/db/migrate.js';
import { createPgliteDb } from '../../lib/db/pglite.js';

/** The Postgres server the tests may use; without one, tests run on embedded PGlite. */
export const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

export interface TestDb {
  db: Db;
  /** Connection string of this test database (real Postgres only). */
  url?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database: its own database on the server, or an in-memory PGlite. */
export async function createTestDb({ real = false, max = 10 } = {}): Promise<TestDb> {
  if (!serverUrl) {
    if (real) throw new Error('real Postgres requested but TEST_DATABASE_URL is not set');
    const db = await createPgliteDb();
    await migrate(db);
    return { db, drop: () => db.close() };
  }
  const name = `pw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = createPgDb({ connectionString: serverUrl, timeoutMs: 30_000 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createPgDb({ connectionString: url.toString(), max, timeoutMs: 30_000 });
  await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const DATA_TABLES = [
  'sms_messages',
  'calls',
  'recordings',
  'transcriptions',
  'webhook_logs',
  'opt_outs',
  'consent_changes',
  'outbound_guards',
  'sync_state',
  'auto_reply_budget',
  'purge_log',
  'analytics_days',
  'sms_daily_rollup',
  'call_daily_rollup',
  'auto_reply_effectiveness_rollup',
  'events',
  'alerts',
  'alert_recipients',
  // Each test's refusals start with their sources' whole hourly budget.
  'refusal_budget',
];

/** Empties the tables the webhooks write, and numbers' own settings (the practice-wide row and rules stay). */
export async function truncateData(db: Db): Promise<void> {
  await db.query(`TRUNCATE ${DATA_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
  // A number's own settings are a test's data (its time zone decides the office day of every text it has):
  // only the practice-wide row is kept.
  await db.query(`DELETE FROM voip_settings WHERE phone_number <> '*'`);
  // A relay a test stopped mid-pass may still hold the events cursor.
  await db.query('UPDATE event_cursor SET claimed_until = NULL');
}

/**
 * One database for the test file, handed to the code under test through setDb, emptied before each test.
 * Read `.db` inside tests and hooks.
 */
export function useTestDb(options: { real?: boolean } = {}): { readonly db: Db; readonly url?: string } {
  const holder: { current?: TestDb } = {};
  beforeAll(async () => {
    holder.current = await createTestDb(options);
    setDb(holder.current.db);
  }, 120_000);
  beforeEach(async () => truncateData(holder.current!.db));
  afterAll(async () => {
    setDb(undefined);
    await holder.current?.drop();
  });
  return {
    get db() {
      return holder.current!.db;
    },
    get url() {
      return holder.current!.url;
    },
  };
}

/** A database that is down: every statement fails as an unreachable Postgres does (`cause` is the driver's error). */
export function unreachableDb(cause = 'connect ECONNREFUSED'): Db {
  const refuse = async (): Promise<never> => {
    throw new DatabaseUnavailableError(new Error(cause));
  };
  return { kind: 'pg', query: refuse, transaction: refuse, session: refuse, close: async () => undefined };
}
