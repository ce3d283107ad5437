// Classifier quality on the frozen holdout (test/lib/autoreply/corpus-holdout.jsonl, never used for tuning):
// accuracy, a confusion matrix, recall for the two intents that must never be missed, and false opt-outs.
// Prints `name value` lines; `--misses` also lists each wrong message (for reading, not for tuning on).
import { readFileSync } from 'node:fs';
import { classify } from '../lib/autoreply/classifier.js';
import { INTENTS, type Intent } from '../lib/autoreply/lexicon.js';

const file = process.argv.find((arg) => arg.endsWith('.jsonl')) ?? 'test/lib/autoreply/corpus-holdout.jsonl';
const messages = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as { text: string; intent: Intent });

const index = new Map<Intent, number>(INTENTS.map((intent, i) => [intent, i]));
const matrix = INTENTS.map(() => INTENTS.map(() => 0));
const misses: string[] = [];
for (const m of messages) {
  const got = classify(m.text).intent;
  matrix[index.get(m.intent)!]![index.get(got)!]! += 1;
  if (got !== m.intent) misses.push(`${m.intent} -> ${got}: ${m.text}`);
}

const correct = INTENTS.reduce((sum, _, i) => sum + matrix[i]![i]!, 0);
const recall = (intent: Intent): number => {
  const row = matrix[index.get(intent)!]!;
  const total = row.reduce((a, b) => a + b, 0);
  return total === 0 ? 1 : row[index.get(intent)!]! / total;
};
const falseOptOuts = messages.length - matrix[index.get('opt_out')!]!.reduce((a, b) => a + b, 0);
const predictedOptOut = matrix.reduce((sum, row) => sum + row[index.get('opt_out')!]!, 0);
const wronglyOptedOut = predictedOptOut - matrix[index.get('opt_out')!]![index.get('opt_out')!]!;

const pct = (x: number): string => (x * 100).toFixed(1);
console.log(`classifier_holdout_messages ${messages.length}`);
console.log(`classifier_holdout_accuracy_pct ${pct(correct / messages.length)}`);
console.log(`classifier_holdout_emergency_recall_pct ${pct(recall('emergency'))}`);
console.log(`classifier_holdout_opt_out_recall_pct ${pct(recall('opt_out'))}`);
console.log(`classifier_holdout_false_opt_outs ${wronglyOptedOut} (of ${falseOptOuts} other messages)`);

// Rows: the label; columns: what the classifier said.
const short = (intent: string): string => intent.replace('appointment', 'appt').replace('insurance', 'insur');
const width = 10;
console.log(`confusion ${'label\\got'.padEnd(10)}${INTENTS.map((i) => short(i).padStart(width)).join('')}`);
INTENTS.forEach((intent, i) => {
  console.log(
    `confusion ${short(intent).padEnd(10)}${matrix[i]!.map((n) => String(n).padStart(width)).join('')}`,
  );
});
if (process.argv.includes('--misses')) for (const line of misses) console.log(`miss ${line}`);
