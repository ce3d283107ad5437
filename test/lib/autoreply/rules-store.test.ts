// How a container keeps the practice's reply rules: read once, kept for a minute, the same array while the rows are
// unchanged (the classifier compiles once per array), and the last rules kept when the database cannot be read.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  clearAutoReplyRulesCache,
  loadAutoReplyRules,
  RULES_TTL_MS,
} from '../../../lib/autoreply/rules-store.js';
import type { Queryable } from '../../../lib/db/index.js';
import { logger } from '../../../lib/observability.js';

const row = (responseText: string) => ({
  intent: 'hours',
  language: 'es',
  keywords: ['horario'],
  phrases: ['a que hora'],
  priority: 400,
  enabled: false,
  response_text: responseText,
});

/** A database whose auto_responses rows the test sets, counting the reads. */
function rulesTable(rows: unknown[] | Error) {
  const table = { rows, reads: 0 };
  const db: Queryable = {
    query: vi.fn(async (text: string) => {
      table.reads++;
      expect(text).toContain('FROM auto_responses');
      if (table.rows instanceof Error) throw table.rows;
      return { rows: table.rows, rowCount: table.rows.length } as never;
    }),
  };
  return { table, db };
}

beforeEach(() => {
  clearAutoReplyRulesCache();
  vi.restoreAllMocks();
});

describe('the reply rules a container keeps', () => {
  it('are the rows of auto_responses, as the classifier and replies name their fields', async () => {
    const { db } = rulesTable([row('Abrimos a las 8.')]);
    expect(await loadAutoReplyRules(db, 1_000)).toEqual([
      {
        intent: 'hours',
        language: 'es',
        keywords: ['horario'],
        phrases: ['a que hora'],
        priority: 400,
        enabled: false,
        responseText: 'Abrimos a las 8.',
      },
    ]);
  });

  it('are read once a minute, however many texts ask', async () => {
    expect(RULES_TTL_MS).toBe(60_000);
    const { table, db } = rulesTable([row('one')]);
    const first = await loadAutoReplyRules(db, 1_000);
    expect(await loadAutoReplyRules(db, 1_000 + RULES_TTL_MS - 1)).toBe(first);
    expect(table.reads).toBe(1);
    await loadAutoReplyRules(db, 1_000 + RULES_TTL_MS);
    expect(table.reads).toBe(2);
  });

  it('share one read among texts that ask at the same moment', async () => {
    const { table, db } = rulesTable([row('one')]);
    const [a, b] = await Promise.all([loadAutoReplyRules(db, 1_000), loadAutoReplyRules(db, 1_000)]);
    expect(a).toBe(b);
    expect(table.reads).toBe(1);
  });

  it('stay the same array when a new read finds the same rows, and change when the rows do', async () => {
    const { table, db } = rulesTable([row('one')]);
    const first = await loadAutoReplyRules(db, 1_000);
    const again = await loadAutoReplyRules(db, 1_000 + RULES_TTL_MS);
    expect(again).toBe(first);
    // The unchanged read counts as fresh: the next minute starts from it.
    expect(await loadAutoReplyRules(db, 1_000 + RULES_TTL_MS + 30_000)).toBe(first);
    expect(table.reads).toBe(2);
    table.rows = [row('two')];
    const changed = await loadAutoReplyRules(db, 1_000 + 3 * RULES_TTL_MS);
    expect(changed).not.toBe(first);
    expect(changed[0]?.responseText).toBe('two');
  });

  it('stay the last ones read when the database cannot be read, and are none before any read', async () => {
    const warned = vi.spyOn(logger, 'warn');
    const { table, db } = rulesTable(new Error('connection refused'));
    expect(await loadAutoReplyRules(db, 1_000)).toEqual([]);
    expect(warned).toHaveBeenCalledWith('auto-reply rules unavailable; keeping the last ones', {
      error: 'connection refused',
    });
    table.rows = [row('one')];
    const read = await loadAutoReplyRules(db, 2_000);
    table.rows = new Error('connection refused');
    expect(await loadAutoReplyRules(db, 2_000 + RULES_TTL_MS)).toBe(read);
  });

  it('are read again at once after the cache is cleared', async () => {
    const { table, db } = rulesTable([row('one')]);
    await loadAutoReplyRules(db, 1_000);
    clearAutoReplyRulesCache();
    await loadAutoReplyRules(db, 1_001);
    expect(table.reads).toBe(2);
  });
});
