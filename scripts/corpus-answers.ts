/**
 * Writes the classifier's answers on the labelled corpora to test/lib/autoreply/corpus-answers.jsonl, which
 * corpus-answers.test.ts holds the classifier to. Run after a deliberate change to the classifier or lexicon,
 * and read the diff: every changed line is a patient text now answered differently.
 *   npx tsx scripts/corpus-answers.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../lib/autoreply/classifier.js';

const dir = join(import.meta.dirname, '..', 'test', 'lib', 'autoreply');
const lines: string[] = [];
for (const file of ['corpus.jsonl', 'corpus-holdout.jsonl']) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { text } = JSON.parse(line) as { text: string };
    lines.push(JSON.stringify({ text, ...classify(text) }));
  }
}
writeFileSync(join(dir, 'corpus-answers.jsonl'), `${lines.join('\n')}\n`);
console.log(`${lines.length} answers written`);
