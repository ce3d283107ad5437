/**
 * `npx tsx scripts/mutation/survivors.ts <room> [docs/mutation/<room>.md ...]`: the undetected mutants of a
 * room's last report (reports/mutation/<room>.json), each beside the source line it changes, for going through
 * them one by one. Given survivor notes, it prints only the mutants whose `LINE:COL` no note mentions
 * (`file.ts:12:5`, `:12:5` and `12:5` all name line 12, column 5).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

const [room, ...notes] = process.argv.slice(2);
if (!room) throw new Error('usage: survivors.ts <room> [notes.md ...]');
const report = JSON.parse(readFileSync(join('reports', 'mutation', `${room}.json`), 'utf8')) as {
  files: Record<string, { source: string; mutants: Mutant[] }>;
};
const noted = notes.map((file) => readFileSync(file, 'utf8')).join('\n');
let unlisted = 0;
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  const left = mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .sort(
      (a, b) =>
        a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
    );
  for (const m of left) {
    const { line, column } = m.location.start;
    if (notes.length > 0 && new RegExp(`(?<![\\d.])${line}:${column}(?!\\d)`).test(noted)) continue;
    unlisted++;
    const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100);
    console.log(`${file}:${line}:${column} ${m.status} ${m.mutatorName} → ${replacement}`);
    console.log(`    ${lines[line - 1]?.trim().slice(0, 140)}`);
  }
}
if (notes.length > 0) console.log(`${unlisted} survivor(s) not named in ${notes.join(', ')}`);
