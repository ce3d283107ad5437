import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPgDb, type Db } from '../../lib/db/index.js';
import { IndexBuildError, MIGRATIONS_DIR, migrate, migrationClient } from '../../lib/db/migrate.js';
import { createPgliteDb } from '../../lib/db/pglite.js';
import { logger } from '../../lib/observability.js';
import { serverUrl } from '../support/db.js';

/** The migration under test, recorded by its name without the extension, and the one before it. */
const NAME = '1732500009802_reply-link-index';
const BEFORE = '1732500009801_zone-offsets';
const INDEX = 'sms_messages_in_reply_to_idx';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

const admin = serverUrl ? createPgDb({ connectionString: serverUrl, timeoutMs: 30_000 }) : undefined;

interface TestDatabase {
  db: Db;
  url?: string;
  /** The database's name on the server, or PGlite's data directory. */
  location: string;
  remove(): Promise<void>;
}

/**
 * A database of its own, empty or a copy of `template`: on the server when there is one, else PGlite (in
 * memory, unless it is or copies a template).
 */
async function createDatabase(template?: string, onDisk = template !== undefined): Promise<TestDatabase> {
  if (!admin && !onDisk) {
    const db = await createPgliteDb();
    return { db, location: 'memory://', remove: async () => undefined };
  }
  if (!admin) {
    const location = await mkdtemp(join(tmpdir(), 'pw-pglite-'));
    if (template) await cp(template, location, { recursive: true });
    const db = await createPgliteDb(location);
    return { db, location, remove: () => rm(location, { recursive: true, force: true }) };
  }
  const location = `pw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${location}${template ? ` TEMPLATE ${template}` : ''}`);
  const url = new URL(serverUrl!);
  url.pathname = `/${location}`;
  const db = createPgDb({ connectionString: url.toString(), max: 4, timeoutMs: 30_000 });
  return {
    db,
    url: url.toString(),
    location,
    remove: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${location} WITH (FORCE)`);
    },
  };
}

/** A database for one test, removed after it. */
async function openDb(template?: string): Promise<TestDatabase> {
  const database = await createDatabase(template);
  cleanups.push(async () => {
    await database.db.close();
    await database.remove();
  });
  return database;
}

/** A database as a release before `NAME` left it: every migration up to `BEFORE`, then texts. Copied per test. */
let beforeIt: TestDatabase | undefined;
beforeAll(async () => {
  beforeIt = await createDatabase(undefined, true);
  const files = (await readdir(MIGRATIONS_DIR)).sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  await runner({
    dbClient: migrationClient(beforeIt.db) as never,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'pgmigrations',
    direction: 'up',
    count: files.findIndex((file) => file.startsWith(`${BEFORE}.`)) + 1,
    noLock: true,
    log: () => undefined,
  });
  await storeTexts(beforeIt.db, 'SM-in', 1);
  // A template takes no connections while it is copied, and PGlite's files are complete once it is closed.
  await beforeIt.db.close();
}, 120_000);
afterAll(async () => {
  await beforeIt?.remove();
  await admin?.close();
});

const databaseBeforeIt = () => openDb(beforeIt!.location);

/** One inbound text and `replies` replies to it. */
async function storeTexts(db: Db, sid: string, replies: number): Promise<void> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status)
     VALUES ('twilio', $1, 'inbound', '+15550000001', '+15550000002', 'received') RETURNING id`,
    [sid],
  );
  await db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status, in_reply_to)
     SELECT 'twilio', $1 || '-reply-' || n, 'outbound', '+15550000002', '+15550000001', 'sent', $2
     FROM generate_series(1, $3::int) n`,
    [sid, rows[0]!.id, replies],
  );
}

interface IndexState {
  oid: number;
  valid: boolean;
  unique: boolean;
  definition: string;
}

async function indexState(db: Db, index = INDEX): Promise<IndexState | undefined> {
  const { rows } = await db.query<IndexState>(
    `SELECT i.indexrelid::int8 AS oid, i.indisvalid AS valid, i.indisunique AS unique,
       pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i WHERE i.indexrelid = to_regclass($1)`,
    [index],
  );
  return rows[0];
}

/**
 * Whether the index was created by the transaction that recorded the migration (built by the migration's own
 * statement), rather than before it, outside any transaction.
 */
async function builtInsideMigration(db: Db, index: string, migration: string): Promise<boolean> {
  const { rows } = await db.query<{ inside: boolean }>(
    `SELECT (SELECT xmin::text FROM pg_class WHERE oid = to_regclass($1))
       = (SELECT xmin::text FROM pgmigrations WHERE name = $2) AS inside`,
    [index, migration],
  );
  return rows[0]!.inside;
}

async function recorded(db: Db, migration: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM pgmigrations WHERE name = $1', [migration])).rows.length === 1;
}

describe(`migration ${NAME}`, () => {
  it('builds the reply-link index before its migration runs, valid, and records it under its name', async () => {
    // Prepare
    const { db } = await databaseBeforeIt();
    // Act
    const applied = await migrate(db);
    // Assess
    expect(applied[0]).toBe(NAME);
    expect(await indexState(db)).toMatchObject({
      valid: true,
      unique: false,
      definition: `CREATE INDEX ${INDEX} ON public.sms_messages USING btree (in_reply_to) WHERE (in_reply_to IS NOT NULL)`,
    });
    expect(await builtInsideMigration(db, INDEX, NAME)).toBe(false);
    expect(await recorded(db, NAME)).toBe(true);
  });

  // PGlite runs one statement at a time: only a server shows a text stored while the index builds.
  it.skipIf(!serverUrl)('keeps taking texts while the index builds (real Postgres)', async () => {
    const { db, url } = await databaseBeforeIt();
    const other = createPgDb({ connectionString: url!, max: 2, timeoutMs: 30_000 });
    cleanups.push(() => other.close());
    const text = (sid: string) =>
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status)
       VALUES ('twilio', '${sid}', 'inbound', '+15550000001', '+15550000002', 'received')`;
    let run: Promise<string[]> | undefined;
    // Prepare: a text still being stored when the migrations start, which the build waits for
    try {
      await other.transaction(async (open) => {
        await open.query(text('SM-open'));
        run = migrate(db);
        await expect
          .poll(
            async () =>
              (
                await other.query(
                  `SELECT 1 FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND query LIKE '%CREATE INDEX%' AND wait_event_type = 'Lock'`,
                )
              ).rowCount,
            { timeout: 10_000 },
          )
          .toBe(1);
        // Act: another text arrives while the build waits; a plain CREATE INDEX would queue it behind the build
        const during = other.transaction(async (write) => {
          await write.query(`SET LOCAL lock_timeout = '2s'`);
          return write.query(text('SM-during'));
        });
        // Assess
        await expect(during).resolves.toMatchObject({ rowCount: 1 });
      });
    } finally {
      // The run goes on once the open text is stored, or given up: let it end before the database is removed.
      await run?.catch(() => undefined);
    }
    expect(await run).toContain(NAME);
    expect(await indexState(db)).toMatchObject({ valid: true, unique: false });
  });

  it('replaces the invalid index a concurrent build cut short left behind', async () => {
    // Prepare: two replies to one text make a unique build of the same name fail half-way, leaving it invalid
    const { db } = await databaseBeforeIt();
    await storeTexts(db, 'SM-twice', 2);
    await expect(
      db.query(
        `CREATE UNIQUE INDEX CONCURRENTLY ${INDEX} ON sms_messages (in_reply_to) WHERE in_reply_to IS NOT NULL`,
      ),
    ).rejects.toThrow(/could not create unique index/);
    expect(await indexState(db)).toMatchObject({ valid: false, unique: true });
    // Act
    const applied = await migrate(db);
    // Assess
    expect(applied).toContain(NAME);
    expect(await indexState(db)).toMatchObject({ valid: true, unique: false });
    expect(await builtInsideMigration(db, INDEX, NAME)).toBe(false);
  });

  it('keeps a valid index: a rerun, or a run after one that stopped between the build and the migration', async () => {
    // Prepare: the index built as a first run would have, with the migration left unrecorded
    const { db } = await databaseBeforeIt();
    await db.query(
      `CREATE INDEX CONCURRENTLY ${INDEX} ON sms_messages (in_reply_to) WHERE in_reply_to IS NOT NULL`,
    );
    const built = await indexState(db);
    // Act
    const first = await migrate(db);
    const again = await migrate(db);
    // Assess
    expect(first).toContain(NAME);
    expect(again).toEqual([]);
    expect(await indexState(db)).toEqual(built);
    expect(await recorded(db, NAME)).toBe(true);
  });
});

describe('migrate: indexes built before their migration', () => {
  /** A migrations directory of its own, with `0001` applied; the files returned are written pending. */
  async function migrationsDir(db: Db, pending: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'pw-migrations-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, '0001_texts.sql'),
      `-- Up Migration
CREATE TABLE texts (id serial PRIMARY KEY, sender text, body text);
INSERT INTO texts (sender, body) SELECT 'n' || (n % 7), 'body ' || n FROM generate_series(1, 100) n;
-- Down Migration
DROP TABLE texts;
`,
    );
    expect(await migrate(db, { dir })).toEqual(['0001_texts']);
    for (const [file, sql] of Object.entries(pending)) await writeFile(join(dir, file), sql);
    return dir;
  }

  it('leaves to the migration the indexes on a table or column it creates itself, and reads only its Up part', async () => {
    // Prepare
    const { db } = await openDb();
    const warn = vi.spyOn(logger, 'warn');
    const dir = await migrationsDir(db, {
      '0002_more.sql': `-- Up Migration
CREATE TABLE replies (id serial PRIMARY KEY, text_id int REFERENCES texts (id));
CREATE INDEX IF NOT EXISTS replies_text_id_idx ON replies (text_id);
ALTER TABLE texts ADD COLUMN received_at timestamptz;
CREATE INDEX IF NOT EXISTS texts_received_at_idx ON texts (received_at);
CREATE INDEX IF NOT EXISTS texts_sender_idx ON texts (sender);
-- Down Migration
CREATE INDEX IF NOT EXISTS texts_body_idx ON texts (body);
`,
    });
    // Act
    const applied = await migrate(db, { dir });
    // Assess: the existing table's index built first; the others built by the migration, the column's logged
    expect(applied).toEqual(['0002_more']);
    for (const index of ['replies_text_id_idx', 'texts_received_at_idx', 'texts_sender_idx']) {
      expect(await indexState(db, index)).toMatchObject({ valid: true });
    }
    expect(await builtInsideMigration(db, 'texts_sender_idx', '0002_more')).toBe(false);
    expect(await builtInsideMigration(db, 'replies_text_id_idx', '0002_more')).toBe(true);
    expect(await builtInsideMigration(db, 'texts_received_at_idx', '0002_more')).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('not built concurrently'),
      expect.objectContaining({ index: 'texts_received_at_idx', migration: '0002_more' }),
    );
    expect(await indexState(db, 'texts_body_idx')).toBeUndefined();
  });

  it('builds an index on a column an earlier pending migration adds once that migration has run', async () => {
    // Prepare
    const { db } = await openDb();
    const dir = await migrationsDir(db, {
      '0002_column.sql': '-- Up Migration\nALTER TABLE texts ADD COLUMN received_at timestamptz;\n',
      '0003_index.sql':
        '-- Up Migration\nCREATE INDEX IF NOT EXISTS texts_received_at_idx ON texts (received_at);\n',
    });
    // Act
    const applied = await migrate(db, { dir });
    // Assess
    expect(applied).toEqual(['0002_column', '0003_index']);
    expect(await indexState(db, 'texts_received_at_idx')).toMatchObject({ valid: true });
    expect(await builtInsideMigration(db, 'texts_received_at_idx', '0003_index')).toBe(false);
  });

  it('stops before the migration when a build fails half-way, and the next run builds the index', async () => {
    // Prepare: a unique index the rows break, which its concurrent build finds only after creating it
    const { db } = await openDb();
    const dir = await migrationsDir(db, {
      '0002_unique.sql':
        '-- Up Migration\nCREATE UNIQUE INDEX IF NOT EXISTS texts_body_key ON texts (body);\n',
    });
    await db.query(`INSERT INTO texts (sender, body) VALUES ('n1', 'body 1')`);
    // Act
    const failed = migrate(db, { dir });
    // Assess: no migration recorded over the invalid index left
    await expect(failed).rejects.toThrow(IndexBuildError);
    expect(await recorded(db, '0002_unique')).toBe(false);
    expect(await indexState(db, 'texts_body_key')).toMatchObject({ valid: false });
    // Act: the rows fixed, run again
    await db.query(`DELETE FROM texts WHERE id = (SELECT max(id) FROM texts)`);
    const applied = await migrate(db, { dir });
    // Assess
    expect(applied).toEqual(['0002_unique']);
    expect(await indexState(db, 'texts_body_key')).toMatchObject({ valid: true, unique: true });
    expect(await builtInsideMigration(db, 'texts_body_key', '0002_unique')).toBe(false);
  });
});
