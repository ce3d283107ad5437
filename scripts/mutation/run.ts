/**
 * `npm run mutation [room...] [sql]`: Stryker over each room (scripts/mutation/rooms.mjs), then the SQL step
 * (scripts/mutation/sql.ts), and one score per room. Slow (minutes per room on two cores): run by hand, never
 * in `npm test` or CI. Reports land in reports/mutation/ (gitignored); incremental files there make re-runs
 * cheap.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rooms } from './rooms.mjs';
import { runSqlMutation, type SqlResult } from './sql.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface ReportMutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: ReportMutant[] }>;
}

interface Score {
  room: string;
  detected: number;
  undetected: number;
  survivors: string[];
}

/** Detected = killed or timed out; undetected = survived or not covered; errors (invalid mutants) left out. */
function scoreOf(room: string, report: Report): Score {
  const score: Score = { room, detected: 0, undetected: 0, survivors: [] };
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const mutant of mutants) {
      if (mutant.status === 'Killed' || mutant.status === 'Timeout') score.detected++;
      else if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
        score.undetected++;
        const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
        const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
        score.survivors.push(`${where} ${mutant.status} ${mutant.mutatorName} → ${replacement}`);
      }
    }
  }
  return score;
}

function sqlScore(results: SqlResult[]): Score {
  const survived = results.filter((result) => result.status === 'survived');
  return {
    room: 'sql',
    detected: results.length - survived.length,
    undetected: survived.length,
    survivors: survived.map((result) => `${result.file}:${result.line} ${result.description}`),
  };
}

const percent = ({ detected, undetected }: Score) =>
  detected + undetected === 0 ? 'n/a' : `${((100 * detected) / (detected + undetected)).toFixed(1)}%`;

async function main(): Promise<void> {
  // `npm run mutation -- http -- --force`: what follows a second `--` goes to Stryker (--force, --mutate …).
  const args = process.argv.slice(2);
  const split = args.indexOf('--');
  const asked = split < 0 ? args : args.slice(0, split);
  const strykerArgs = split < 0 ? [] : args.slice(split + 1);
  const names = asked.length > 0 ? asked : [...Object.keys(rooms), 'sql'];
  const unknown = names.filter((name) => name !== 'sql' && !(name in rooms));
  if (unknown.length > 0) throw new Error(`unknown room(s): ${unknown.join(', ')}`);

  const scores: Score[] = [];
  for (const room of names.filter((name) => name !== 'sql')) {
    console.log(`\n=== ${room}`);
    const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', ...strykerArgs], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, MUTATION_ROOM: room },
    });
    const reportFile = join(ROOT, 'reports', 'mutation', `${room}.json`);
    if (run.status !== 0 || !existsSync(reportFile)) throw new Error(`stryker failed for ${room}`);
    scores.push(scoreOf(room, JSON.parse(readFileSync(reportFile, 'utf8')) as Report));
  }
  if (names.includes('sql')) {
    console.log('\n=== sql');
    scores.push(sqlScore(await runSqlMutation((line) => console.log(line))));
  }

  console.log('\nroom        score   detected  survived');
  for (const score of scores) {
    console.log(
      `${score.room.padEnd(10)} ${percent(score).padStart(6)} ${String(score.detected).padStart(9)} ${String(score.undetected).padStart(9)}`,
    );
  }
  for (const score of scores.filter((s) => s.survivors.length > 0)) {
    console.log(`\nsurvivors in ${score.room}:`);
    for (const line of score.survivors) console.log(`  ${line}`);
  }
}

await main();
