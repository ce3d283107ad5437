import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();

/**
 * Foreign keys with no index on their columns, each with why it needs none. Deleting a referenced row (or
 * changing its key) looks up the rows referring to it: without an index, a scan of the whole referring table per
 * row deleted.
 */
const UNINDEXED_ALLOWED: Record<string, string> = {
  'transcriptions.transcriptions_call_id_fkey':
    // Checked below: nothing deletes calls (they are kept past the retention), and call ids never change; by
    // hand, one call's delete scans transcriptions, one row per recording still kept.
    'calls never lose rows',
};

const SOURCES = ['lib', 'functions', 'scripts', 'migrations'];
const ROOT = new URL('../../../', import.meta.url);

/** Tables some statement of the project deletes from (a mention in prose counts too: it errs on the safe side). */
function tablesDeletedFrom(): Set<string> {
  const tables = new Set<string>();
  for (const dir of SOURCES) {
    for (const file of readdirSync(new URL(dir, ROOT), { recursive: true, encoding: 'utf8' })) {
      if (!/\.(ts|sql)$/.test(file)) continue;
      const text = readFileSync(new URL(`${dir}/${file}`, ROOT), 'utf8');
      for (const match of text.matchAll(/\bDELETE\s+FROM\s+(?:ONLY\s+)?(?:\w+\.)?(\w+)/gi)) {
        tables.add(match[1]!.toLowerCase());
      }
    }
  }
  return tables;
}

interface ForeignKey {
  key: string;
  referencing: string;
  referenced: string;
  cascades: boolean;
  indexed: boolean;
}

/**
 * Every foreign key, and whether a valid index leads with exactly its columns (partial only on those columns
 * being set, which every lookup by a key value implies).
 */
async function foreignKeys(): Promise<ForeignKey[]> {
  const { rows } = await testDb.db.query<ForeignKey>(
    `SELECT c.conrelid::regclass || '.' || c.conname AS key, c.conrelid::regclass::text AS referencing,
       c.confrelid::regclass::text AS referenced, c.confdeltype = 'c' AS cascades,
       EXISTS (
         SELECT 1 FROM pg_index i
         WHERE i.indrelid = c.conrelid AND i.indisvalid
           AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
           AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
           AND (i.indpred IS NULL OR (cardinality(c.conkey) = 1 AND pg_get_expr(i.indpred, i.indrelid) =
             '(' || (SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = c.conrelid AND a.attnum = c.conkey[1]) || ' IS NOT NULL)'))
       ) AS indexed
     FROM pg_constraint c
     WHERE c.contype = 'f'
     ORDER BY 1`,
  );
  return rows;
}

describe('foreign keys', () => {
  it('each have an index leading with their columns, or a reason in the allow-list', async () => {
    // Act
    const keys = await foreignKeys();
    const unindexed = keys.filter((fk) => !fk.indexed).map((fk) => fk.key);
    // Assess: nothing unindexed without a reason, and no reason left for a key since indexed or gone
    expect(keys.map((fk) => fk.key)).toContain('sms_messages.sms_messages_in_reply_to_fkey');
    expect(unindexed.filter((key) => !(key in UNINDEXED_ALLOWED))).toEqual([]);
    expect(Object.keys(UNINDEXED_ALLOWED).filter((key) => !unindexed.includes(key))).toEqual([]);
  });

  it('into a table that loses rows are indexed, so a delete never scans the table that refers to it', async () => {
    // Prepare: the tables the code deletes from, and those their deletes cascade to
    const keys = await foreignKeys();
    const losing = tablesDeletedFrom();
    for (let grew = true; grew; ) {
      grew = false;
      for (const fk of keys) {
        if (fk.cascades && losing.has(fk.referenced) && !losing.has(fk.referencing)) {
          losing.add(fk.referencing);
          grew = true;
        }
      }
    }
    // Act
    const unindexed = keys.filter((fk) => losing.has(fk.referenced) && !fk.indexed).map((fk) => fk.key);
    // Assess: stray receipts folded into their reply; the retention purge's recordings (transcripts with them), events
    expect([...losing]).toEqual(
      expect.arrayContaining(['sms_messages', 'recordings', 'events', 'transcriptions']),
    );
    expect(unindexed).toEqual([]);
  });
});
