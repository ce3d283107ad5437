import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from '../../../lib/autoreply/builtin-rules.js';
import { classify } from '../../../lib/autoreply/classifier.js';
import { INTENTS } from '../../../lib/autoreply/lexicon.js';
import { composeReply } from '../../../lib/autoreply/replies.js';
import { migrate } from '../../../lib/db/migrate.js';
import { createPgliteDb } from '../../../lib/db/pglite.js';
import { officeStatus } from '../../../lib/practice/hours.js';
import { loadCorpus, officeSettings } from './factories.js';

const SEED = readFileSync(
  new URL('../../../migrations/1732500000001_autoreply-seed.sql', import.meta.url),
  'utf8',
);

describe('built-in rules and their seed migration', () => {
  it('covers every intent in both languages', () => {
    // Act
    const keys = BUILTIN_RULES.map((r) => `${r.intent}/${r.language}`);
    // Assess
    expect(new Set(keys).size).toBe(INTENTS.length * 2);
  });

  it('is in node-pg-migrate SQL form and never overwrites edited rows', () => {
    // Assess
    expect(SEED).toMatch(/^-- Up Migration$/m);
    expect(SEED).toMatch(/^-- Down Migration$/m);
    expect(SEED).toContain('ON CONFLICT (intent, language) DO NOTHING');
  });

  it('seeds exactly the built-in rules, once, and keeps a practice edit on re-run', async () => {
    // Prepare
    const db = await createPgliteDb();
    try {
      await migrate(db);
      await db.query(
        `UPDATE auto_responses SET response_text = 'edited' WHERE intent = 'hours' AND language = 'en'`,
      );
      // Act: the seed statement again
      const up = SEED.slice(SEED.indexOf('-- Up Migration'), SEED.indexOf('-- Down Migration'));
      await db.query(up);
      const { rows } = await db.query<{
        intent: string;
        language: string;
        keywords: string[];
        response_text: string;
        priority: number;
        enabled: boolean;
      }>('SELECT intent, language, keywords, response_text, priority, enabled FROM auto_responses');
      // Assess
      expect(rows).toHaveLength(BUILTIN_RULES.length);
      for (const rule of BUILTIN_RULES) {
        const row = rows.find((r) => r.intent === rule.intent && r.language === rule.language);
        expect(row?.keywords).toEqual(rule.keywords);
        expect(row?.priority).toBe(rule.priority);
        expect(row?.enabled).toBe(true);
        if (!(rule.intent === 'hours' && rule.language === 'en'))
          expect(row?.response_text).toBe(rule.responseText);
      }
      expect(rows.find((r) => r.intent === 'hours' && r.language === 'en')?.response_text).toBe('edited');
    } finally {
      await db.close();
    }
  });

  it('leaves classification as good with the seeded rules loaded', () => {
    // Prepare
    const corpus = loadCorpus('corpus.jsonl');
    // Act
    const results = corpus.map((m) => ({ m, c: classify(m.text, { rules: BUILTIN_RULES }) }));
    const accuracy = results.filter(({ m, c }) => m.intent === c.intent).length / corpus.length;
    const falseOptOuts = results.filter(({ m, c }) => c.intent === 'opt_out' && m.intent !== 'opt_out');
    const missedCritical = results.filter(
      ({ m, c }) => (m.intent === 'opt_out' || m.intent === 'emergency') && c.intent !== m.intent,
    );
    // Assess
    expect(accuracy).toBeGreaterThanOrEqual(0.95);
    expect(falseOptOuts).toEqual([]);
    expect(missedCritical).toEqual([]);
  });

  it('gives the emergency line after hours even when the reply comes from the seeded rule', () => {
    // Prepare
    const settings = officeSettings();
    const ctx = {
      practiceName: 'Bright Smiles Dental',
      officeLine: '(555) 010-2000',
      emergencyLine: '(555) 010-9111',
      timezone: settings.timezone,
      rules: BUILTIN_RULES,
    };
    // Act
    const night = composeReply('emergency', 'en', {
      ...ctx,
      status: officeStatus(settings, new Date('2025-06-11T01:00:00Z')),
    });
    const day = composeReply('emergency', 'es', {
      ...ctx,
      status: officeStatus(settings, new Date('2025-06-10T14:00:00Z')),
    });
    // Assess
    expect(night).toContain('(555) 010-9111');
    expect(day).toContain('(555) 010-2000');
  });
});
