import { describe, expect, it } from 'vitest';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();

/** Tables whose rows the code deletes: stray receipts folded into their reply, and the retention purge. */
const TABLES_THAT_LOSE_ROWS = ['sms_messages', 'recordings', 'events'];

describe('foreign keys', () => {
  it('into a table that loses rows are indexed, so a delete never scans the table that refers to it', async () => {
    // Act: each foreign key into those tables, and whether an index starts with exactly its columns
    const { rows } = await testDb.db.query<{ key: string; indexed: boolean }>(
      `SELECT c.conrelid::regclass || '.' || c.conname AS key,
         EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.conrelid
             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey
         ) AS indexed
       FROM pg_constraint c
       WHERE c.contype = 'f' AND c.confrelid::regclass::text = ANY($1::text[])
       ORDER BY 1`,
      [TABLES_THAT_LOSE_ROWS],
    );
    // Assess
    expect(rows.map((row) => row.key)).toContain('sms_messages.sms_messages_in_reply_to_fkey');
    expect(rows.filter((row) => !row.indexed)).toEqual([]);
  });
});
