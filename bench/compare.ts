/**
 * The side-by-side step of `npm run bench` (DESIGN.md "Performance targets"): the plain reference handler
 * (bench/reference-server.ts) and this project's local gateway (bench/gateway-server.ts), each in its own
 * process on its own freshly migrated database, take the same load of pre-signed unique inbound texts at
 * concurrency 32, in alternating order, three runs. For each: requests/s, p99, CPU per request of the web
 * process (its process.cpuUsage) and of Postgres (the CPU of that database's backends, from /proc/<pid>/stat,
 * before and after). The targets hold on the worst ratio of the three runs.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { LoadOptions, LoadResult } from './load-generator.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const PATH = '/webhooks/twilio/sms/incoming';
const RUNS = Number(process.env.BENCH_COMPARE_RUNS ?? 3);
const WARMUP_SECONDS = Number(process.env.BENCH_COMPARE_WARMUP_SECONDS ?? 3);

export interface CompareOptions {
  serverUrl: string;
  seconds: number;
  concurrency: number;
  authToken: string;
  baseUrl: string;
  practiceNumber: string;
  figure: (name: string, value: number | string, unit: string) => void;
  target: (name: string, text: string, met: boolean) => void;
  /** Migrates the database at this URL (the project's migrations, for both sides). */
  migrate: (databaseUrl: string) => Promise<void>;
}

interface Side {
  label: 'reference' | 'project';
  database: string;
  child: ChildProcess;
  url: string;
}

interface Measured {
  rate: number;
  p99: number;
  webCpuUs: number;
  pgCpuUs: number;
  errors: number;
}

const ticksPerSecond = Number((await promisify(execFile)('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

/** utime + stime of one process, in microseconds; 0 once it is gone. */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** The CPU used so far by every backend connected to `database`, per pid. */
async function backendsCpu(admin: pg.Client, database: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
    database,
  ]);
  return new Map(rows.map(({ pid }) => [pid, processCpuUs(pid)]));
}

function ask<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: Record<string, unknown>) => {
      if (!(key in reply)) return;
      child.off('message', onMessage);
      resolve(reply[key] as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    if (message) child.send(message);
  });
}

function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench/load-generator.ts'), JSON.stringify(options)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as LoadResult)
        : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

async function startSide(
  label: Side['label'],
  database: string,
  databaseUrl: string,
  options: CompareOptions,
): Promise<Side> {
  const script = label === 'reference' ? 'bench/reference-server.ts' : 'bench/gateway-server.ts';
  const args =
    label === 'reference'
      ? { databaseUrl, authToken: options.authToken, baseUrl: options.baseUrl, poolSize: options.concurrency }
      : { databaseUrl, poolSize: options.concurrency };
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each server, to see where its time goes.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', join(root, script), JSON.stringify(args)],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TWILIO_AUTH_TOKEN: options.authToken,
        TWILIO_PHONE_NUMBER: options.practiceNumber,
        WEBHOOK_BASE_URL: options.baseUrl,
      },
    },
  );
  const url = await ask<string>(child, '', 'url');
  return { label, database, child, url };
}

async function measure(side: Side, admin: pg.Client, options: CompareOptions): Promise<Measured> {
  const load: LoadOptions = {
    url: side.url,
    path: PATH,
    kind: 'sms-incoming',
    authToken: options.authToken,
    baseUrl: options.baseUrl,
    practiceNumber: options.practiceNumber,
    concurrency: options.concurrency,
    durationMs: WARMUP_SECONDS * 1000,
    warmupMs: 0,
    presigned: 4000 * WARMUP_SECONDS,
  };
  // Warm: connections open, code compiled and optimised, every backend's plans made, the heap at its working
  // size; then only the measured run counts.
  await runLoad(load);
  const pgBefore = await backendsCpu(admin, side.database);
  const webBefore = await ask<NodeJS.CpuUsage>(side.child, 'cpu', 'cpu');
  const result = await runLoad({ ...load, durationMs: options.seconds * 1000, presigned: 40_000 });
  const webAfter = await ask<NodeJS.CpuUsage>(side.child, 'cpu', 'cpu');
  const pgAfter = await backendsCpu(admin, side.database);
  let pgUs = 0;
  for (const [pid, after] of pgAfter) pgUs += after - (pgBefore.get(pid) ?? 0);
  // Backends that closed during the run: their last reading is lost, so they count from before only.
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const requests = result.requests;
  return {
    rate: requests / (result.elapsedMs / 1000),
    p99: sorted[Math.floor(0.99 * (sorted.length - 1))] ?? Number.NaN,
    webCpuUs: (webAfter.user + webAfter.system - webBefore.user - webBefore.system) / requests,
    pgCpuUs: pgUs / requests,
    errors: result.errors,
  };
}

export async function compareWithReference(options: CompareOptions): Promise<void> {
  const { figure, target } = options;
  const admin = new pg.Client({ connectionString: options.serverUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const sides: Side[] = [];
  try {
    for (const label of ['reference', 'project'] as const) {
      const database = `pw_cmp_${label}_${suffix}`;
      await admin.query(`CREATE DATABASE ${database}`);
      const url = new URL(options.serverUrl);
      url.pathname = `/${database}`;
      await options.migrate(url.toString());
      sides.push(await startSide(label, database, url.toString(), options));
    }
    const worst = { throughput: Number.POSITIVE_INFINITY, pgCpu: 0, p99: 0, webCpu: 0 };
    for (let run = 1; run <= RUNS; run += 1) {
      const results = {} as Record<Side['label'], Measured>;
      // Alternating order, so drift on a shared machine does not always favour the same side.
      for (const side of run % 2 ? sides : [...sides].reverse())
        results[side.label] = await measure(side, admin, options);
      const { reference, project } = results;
      for (const [label, m] of Object.entries(results)) {
        figure(`compare_run${run}_${label}_requests_per_sec`, m.rate, 'req/s');
        figure(`compare_run${run}_${label}_p99`, m.p99, 'ms');
        figure(`compare_run${run}_${label}_web_cpu_per_request`, m.webCpuUs, 'us');
        figure(`compare_run${run}_${label}_pg_cpu_per_request`, m.pgCpuUs, 'us');
        if (m.errors) figure(`compare_run${run}_${label}_errors`, m.errors, 'count');
      }
      const ratios = {
        throughput: project.rate / reference.rate,
        pgCpu: project.pgCpuUs / reference.pgCpuUs,
        p99: project.p99 / reference.p99,
        webCpu: project.webCpuUs / reference.webCpuUs,
      };
      figure(`compare_run${run}_throughput_ratio`, ratios.throughput, 'x');
      figure(`compare_run${run}_pg_cpu_ratio`, ratios.pgCpu, 'x');
      figure(`compare_run${run}_p99_ratio`, ratios.p99, 'x');
      figure(`compare_run${run}_web_cpu_ratio`, ratios.webCpu, 'x');
      worst.throughput = Math.min(worst.throughput, ratios.throughput);
      worst.pgCpu = Math.max(worst.pgCpu, ratios.pgCpu);
      worst.p99 = Math.max(worst.p99, ratios.p99);
      worst.webCpu = Math.max(worst.webCpu, ratios.webCpu);
      target(`compare_run${run}_errors`, '0', reference.errors + project.errors === 0);
    }
    figure('compare_worst_throughput_ratio', worst.throughput, 'x');
    figure('compare_worst_pg_cpu_ratio', worst.pgCpu, 'x');
    figure('compare_worst_p99_ratio', worst.p99, 'x');
    figure('compare_worst_web_cpu_ratio', worst.webCpu, 'x');
    target('compare_worst_throughput_ratio', '>= 1.5', worst.throughput >= 1.5);
    target('compare_worst_pg_cpu_ratio', '<= 1', worst.pgCpu <= 1);
    target('compare_worst_p99_ratio', '<= 0.5', worst.p99 <= 0.5);
  } finally {
    for (const side of sides) {
      if (side.child.exitCode !== null) continue;
      const exited = new Promise((resolve) => side.child.once('exit', resolve));
      side.child.send('exit');
      await exited;
    }
    for (const label of ['reference', 'project'])
      await admin.query(`DROP DATABASE IF EXISTS pw_cmp_${label}_${suffix} WITH (FORCE)`);
    await admin.end();
  }
}

// `npx tsx bench/compare.ts`: this step alone, figures printed (the full run is `npm run bench`).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Object.assign(process.env, {
    TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
    VOIPMS_API_URL: 'http://127.0.0.1:9/api/v1/rest.php',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    DB_TIMEOUT_MS: '5000',
  });
  const { createPgDb } = await import('../lib/db/index.js');
  const { migrate } = await import('../lib/db/migrate.js');
  await compareWithReference({
    serverUrl:
      process.env.BENCH_DATABASE_URL ??
      process.env.TEST_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
    seconds: Number(process.env.BENCH_SECONDS ?? 5),
    concurrency: 32,
    authToken: 'bench-auth-token-0123456789abcdef',
    baseUrl: 'https://bench.example.test',
    practiceNumber: '+15005550006',
    figure: (name, value, unit) =>
      console.log(`${name} ${typeof value === 'number' ? Math.round(value * 100) / 100 : value} ${unit}`),
    target: (name, text, met) => console.log(`target ${name} ${text} ${met ? 'met' : 'MISSED'}`),
    migrate: async (url) => {
      const db = createPgDb({ connectionString: url, max: 2 });
      await migrate(db);
      await db.close();
    },
  });
}
