/**
 * Mutation testing of the hot path's SQL, which Stryker cannot reach: it mutates JavaScript, and to it a
 * statement is one string. Here each statement (a template literal in lib/, or a function of a migration) is
 * changed one small way at a time (`>` to `>=`, AND to OR, a NOT dropped, a status dropped from an IN list, a
 * rank moved...), the tests that cover it are run in a copy of the project, and a mutant the tests still pass
 * with survives. Results are kept by content hash (reports/mutation/sql.incremental.json), so a re-run only
 * runs what changed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const REPORTS = join(ROOT, 'reports', 'mutation');

/** A file holding hot-path SQL, where in it the SQL is, and the tests that must notice a change to it. */
interface SqlTarget {
  file: string;
  /** Finds the regions (start, end offsets) holding SQL. */
  regions: (text: string) => [number, number][];
  tests: string[];
}

/** Backtick strings that hold a statement or a piece of one (a WHERE, SET, CASE or status rank inside). */
function sqlTemplates(text: string): [number, number][] {
  const regions: [number, number][] = [];
  const pattern = /`([^`]*)`/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (/\b(WHERE|SET|CASE)\b|_rank\(/.test(match[1]!))
      regions.push([match.index + 1, match.index + match[0].length - 1]);
  }
  return regions;
}

/** The bodies ($$ … $$) of the named SQL functions in a migration. */
function functionBodies(...names: string[]) {
  return (text: string): [number, number][] =>
    names.map((name) => {
      const head = text.indexOf(`FUNCTION ${name}(`);
      if (head < 0) throw new Error(`function ${name} not found`);
      const start = text.indexOf('$$', head) + 2;
      return [start, text.indexOf('$$', start)];
    });
}

const RULES = 'test/lib/db/status-rules.test.ts';
const CALL_TESTS = [
  'test/lib/calls/call-status-rules.test.ts',
  'test/lib/calls/missed-call-time-zone.test.ts',
  'test/functions/twilio-voice-status.test.ts',
];

export const sqlTargets: SqlTarget[] = [
  {
    file: 'migrations/1732500009803_status-lookup-by-key.sql',
    regions: functionBodies('store_message_status'),
    tests: [
      RULES,
      'test/lib/messages/reply-receipts.test.ts',
      'test/lib/messages/status-lookup.test.ts',
      'test/lib/messages/status.test.ts',
      'test/functions/twilio-sms-status.test.ts',
    ],
  },
  {
    file: 'lib/voipms/calls.ts',
    regions: sqlTemplates,
    tests: [RULES, 'test/functions/voipms-call-cdr.test.ts'],
  },
  {
    file: 'migrations/1732500000000_init.sql',
    regions: functionBodies('message_status_rank', 'call_status_rank'),
    tests: [RULES],
  },
  { file: 'lib/calls/status.ts', regions: sqlTemplates, tests: CALL_TESTS },
  {
    // The migration that defines the statement last: mutating an earlier body would change nothing.
    file: 'migrations/1732500009702_inbound-sms-steps.sql',
    regions: functionBodies('store_inbound_sms'),
    tests: [
      'test/lib/messages/inbound-statement.test.ts',
      'test/lib/messages/consent-race.test.ts',
      'test/lib/messages/reply-budget.test.ts',
      'test/functions/twilio-sms-incoming.test.ts',
      'test/functions/voipms-sms-incoming.test.ts',
      'test/lib/messages/auto-reply-guards.test.ts',
      'test/lib/messages/auto-reply-confirmations.test.ts',
    ],
  },
];

export interface SqlMutant {
  file: string;
  line: number;
  description: string;
  mutated: string;
}

/** Small changes a developer could make by mistake, each one a replacement at one place. */
const OPERATORS: { name: string; pattern: RegExp; replace: (match: RegExpExecArray) => string[] }[] = [
  { name: '>= to >', pattern: />=/g, replace: () => ['>'] },
  { name: '<= to <', pattern: /<=/g, replace: () => ['<'] },
  { name: '> to >=', pattern: /(?<![-=>])>(?![=>])/g, replace: () => ['>='] },
  { name: '< to <=', pattern: /(?<![<])<(?![=>])/g, replace: () => ['<='] },
  { name: 'AND to OR', pattern: /\bAND\b/g, replace: () => ['OR'] },
  { name: 'OR to AND', pattern: /\bOR\b/g, replace: () => ['AND'] },
  { name: 'NOT dropped', pattern: /\bNOT /g, replace: () => [''] },
  { name: 'IS NULL to IS NOT NULL', pattern: /\bIS NULL\b/g, replace: () => ['IS NOT NULL'] },
  { name: 'greatest to least', pattern: /\bgreatest\(/g, replace: () => ['least('] },
  { name: 'least to greatest', pattern: /\bleast\(/g, replace: () => ['greatest('] },
  {
    name: 'coalesce arguments swapped',
    pattern: /\bcoalesce\(([\w.]+), ([\w.]+)\)/g,
    replace: (match) => [`coalesce(${match[2]}, ${match[1]})`],
  },
  {
    name: 'rank moved',
    pattern: /\bTHEN (\d+)\b/g,
    replace: (match) => [`THEN ${Number(match[1]) + 1}`, `THEN ${Math.max(0, Number(match[1]) - 1)}`],
  },
  {
    name: 'value dropped from IN list',
    pattern: /\bIN \(('[^']*'(?:, '[^']*')+)\)/g,
    replace: (match) => {
      const values = match[1]!.split(', ');
      return values.map((_, i) => `IN (${values.filter((__, j) => j !== i).join(', ')})`);
    },
  },
];

export function sqlMutants(target: SqlTarget, text: string): SqlMutant[] {
  const mutants: SqlMutant[] = [];
  for (const [start, end] of target.regions(text)) {
    const region = text.slice(start, end);
    for (const operator of OPERATORS) {
      operator.pattern.lastIndex = 0;
      for (let match = operator.pattern.exec(region); match; match = operator.pattern.exec(region)) {
        const at = start + match.index;
        for (const replacement of operator.replace(match)) {
          if (replacement === match[0]) continue;
          mutants.push({
            file: target.file,
            line: text.slice(0, at).split('\n').length,
            description: `${operator.name}: \`${match[0]}\` → \`${replacement}\``,
            mutated: text.slice(0, at) + replacement + text.slice(at + match[0].length),
          });
        }
      }
    }
  }
  return mutants;
}

/** A copy of the project (node_modules linked) where one file at a time is changed. */
function makeSandbox(index: number): string {
  const dir = join(REPORTS, `sql-sandbox-${index}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of [
    'lib',
    'functions',
    'migrations',
    'test',
    'package.json',
    'tsconfig.json',
    'vitest.config.ts',
  ]) {
    if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function runTests(dir: string, tests: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'vitest'),
      ['run', '--bail', '1', '--reporter', 'dot', ...tests.filter((test) => existsSync(join(dir, test)))],
      // TEST_DATABASE_URL passes through: on a Postgres server each run is several times faster than on PGlite.
      { cwd: dir, stdio: 'ignore', env: process.env },
    );
    child.on('exit', (code) => resolve(code === 0));
  });
}

export interface SqlResult {
  file: string;
  line: number;
  description: string;
  status: 'killed' | 'survived';
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24);

/** Runs every SQL mutant (MUTATION_SQL_CONCURRENCY at a time, default 1), reusing results whose mutated file and tests have not changed. */
export async function runSqlMutation(log: (line: string) => void): Promise<SqlResult[]> {
  mkdirSync(REPORTS, { recursive: true });
  const cacheFile = join(REPORTS, 'sql.incremental.json');
  const cache: Record<string, SqlResult['status']> = existsSync(cacheFile)
    ? JSON.parse(readFileSync(cacheFile, 'utf8'))
    : {};
  const jobs: { mutant: SqlMutant; tests: string[]; key: string }[] = [];
  // MUTATION_SQL_ONLY=calls/status,init runs the targets whose file contains one of those texts.
  const only = process.env.MUTATION_SQL_ONLY?.split(',');
  for (const target of sqlTargets.filter((t) => !only || only.some((part) => t.file.includes(part)))) {
    const text = readFileSync(join(ROOT, target.file), 'utf8');
    const testText = target.tests
      .filter((test) => existsSync(join(ROOT, test)))
      .map((test) => readFileSync(join(ROOT, test), 'utf8'));
    for (const mutant of sqlMutants(target, text)) {
      jobs.push({ mutant, tests: target.tests, key: hash(mutant.file, mutant.mutated, ...testText) });
    }
  }
  const results: SqlResult[] = new Array(jobs.length);
  const pending = jobs
    .map((job, index) => ({ job, index }))
    .filter(({ job, index }) => {
      const status = cache[job.key];
      if (status) results[index] = { ...pick(job.mutant), status };
      return !status;
    });
  log(`SQL: ${jobs.length} mutants, ${pending.length} to run (${jobs.length - pending.length} unchanged)`);
  const sandboxes = Array.from({ length: Number(process.env.MUTATION_SQL_CONCURRENCY ?? 1) }, (_, i) =>
    makeSandbox(i),
  );
  const baseline = [...new Set(pending.flatMap(({ job }) => job.tests))];
  if (baseline.length > 0 && !(await runTests(sandboxes[0]!, baseline))) {
    throw new Error('SQL mutation: the tests fail without any mutant; fix them first');
  }
  let next = 0;
  let done = 0;
  await Promise.all(
    sandboxes.map(async (dir) => {
      while (next < pending.length) {
        const { job, index } = pending[next++]!;
        const path = join(dir, job.mutant.file);
        const original = readFileSync(path, 'utf8');
        writeFileSync(path, job.mutant.mutated);
        const passed = await runTests(dir, job.tests);
        writeFileSync(path, original);
        const status = passed ? 'survived' : 'killed';
        cache[job.key] = status;
        writeFileSync(cacheFile, JSON.stringify(cache));
        results[index] = { ...pick(job.mutant), status };
        log(
          `SQL ${++done}/${pending.length} ${status}: ${job.mutant.file}:${job.mutant.line} ${job.mutant.description}`,
        );
      }
    }),
  );
  for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
  return results;
}

const pick = ({ file, line, description }: SqlMutant) => ({ file, line, description });
