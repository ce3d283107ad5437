// Classification throughput on one core: the labelled corpus, repeated for at least one second after a warm-up.
// Counted per second of this process's own CPU time, so other work on a shared machine does not lower it.
// Prints one line: `classify_msgs_per_sec N`.
import { readFileSync } from 'node:fs';
import { classify } from '../lib/autoreply/classifier.js';

const MIN_MS = 1000;
const texts = readFileSync(new URL('../test/lib/autoreply/corpus.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => (JSON.parse(line) as { text: string }).text);

let sink = 0;
const run = (rounds: number): void => {
  for (let r = 0; r < rounds; r++) for (const text of texts) sink += classify(text).confidence;
};

run(50); // warm-up: let the JIT settle
let messages = 0;
const start = process.cpuUsage();
let elapsedMs = 0;
while (elapsedMs < MIN_MS) {
  run(20);
  messages += 20 * texts.length;
  const used = process.cpuUsage(start);
  elapsedMs = (used.user + used.system) / 1000;
}
if (sink < 0) process.stderr.write('unreachable\n'); // keeps the work observable
process.stdout.write(`classify_msgs_per_sec ${Math.round((messages / elapsedMs) * 1000)}\n`);
