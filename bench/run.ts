/**
 * `npm run bench`: the performance figures of docs/testing.md, one `name value unit` line each, also written
 * to bench/results.json with the machine they ran on. Everything runs on 127.0.0.1 and is bounded in time.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { serverlessYamlSchema } from '../lib/local/routes.js';
import { lambdaNode } from '../scripts/lambda-node.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 32;
const IMPORT_RUNS = 7;
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
const BASE_URL = 'https://bench.example.test';
const PRACTICE_NUMBER = '+15005550006';
const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

// The configuration is read once, on first use: set it before any project module loads.
Object.assign(process.env, {
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: PRACTICE_NUMBER,
  WEBHOOK_BASE_URL: BASE_URL,
  TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
  VOIPMS_API_URL: 'http://127.0.0.1:9/api/v1/rest.php',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  DB_TIMEOUT_MS: '5000',
});
delete process.env.REPLAY_KEY;
delete process.env.INGEST_QUEUE_URL;
delete process.env.OUTBOUND_SMS_QUEUE_URL;
delete process.env.RECORDINGS_QUEUE_URL;

const pg = (await import('pg')).default;
const esbuild = await import('esbuild');
const yaml = (await import('js-yaml')).default;
const { createPgDb, setDb } = await import('../lib/db/index.js');
const { migrate } = await import('../lib/db/migrate.js');
const { startGateway } = await import('../lib/local/gateway.js');
const { send } = await import('./load-generator.js');
type Db = import('../lib/db/index.js').Db;
type LoadOptions = import('./load-generator.js').LoadOptions;
type LoadResult = import('./load-generator.js').LoadResult;

interface Figure {
  name: string;
  value: number | string;
  unit: string;
}
const figures: Figure[] = [];
const targets: { name: string; target: string; met: boolean }[] = [];
const figure = (name: string, value: number | string, unit: string) => {
  const rounded = typeof value === 'number' ? Math.round(value * 100) / 100 : value;
  figures.push({ name, value: rounded, unit });
  console.log(`${name} ${rounded} ${unit}`);
};
const target = (name: string, text: string, met: boolean) => targets.push({ name, target: text, met });

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

interface Statement {
  text: string;
  params: readonly unknown[] | undefined;
}

/** Counts every statement sent to Postgres (BEGIN and COMMIT of a transaction included) and keeps them. */
function countingDb(db: Db): { db: Db; take(): Statement[] } {
  let seen: Statement[] = [];
  const counted: Db = {
    kind: db.kind,
    query: (text, params) => {
      seen.push({ text, params });
      return db.query(text, params);
    },
    transaction: (work) => {
      seen.push({ text: 'BEGIN', params: undefined });
      return db
        .transaction((tx) =>
          work({
            query: (text, params) => {
              seen.push({ text, params });
              return tx.query(text, params);
            },
          }),
        )
        .finally(() => seen.push({ text: 'COMMIT', params: undefined }));
    },
    session: (work) =>
      db.session((connection) =>
        work({
          query: (text, params) => {
            seen.push({ text, params });
            return connection.query(text, params);
          },
        }),
      ),
    close: () => db.close(),
  };
  return {
    db: counted,
    take() {
      const taken = seen;
      seen = [];
      return taken;
    },
  };
}

const MESSAGE_SID = /^SM[0-9a-f]{32}$/;

/**
 * Operations per second of `work` run 32 at once over a pool of 32 (after half a second of warm-up), each
 * worker looping until the time is up.
 */
async function poolRate(
  url: string,
  seconds: number,
  work: (pool: InstanceType<typeof pg.Pool>) => Promise<unknown>,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  // The benchmark database is dropped WITH (FORCE) at the end: a connection still closing must not crash us.
  pool.on('error', () => undefined);
  const loop = async (until: number) => {
    let done = 0;
    while (performance.now() < until) {
      await work(pool);
      done += 1;
    }
    return done;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(performance.now() + 500)));
  const started = performance.now();
  const counts = await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(started + seconds * 1000)));
  const elapsed = (performance.now() - started) / 1000;
  await pool.end();
  return counts.reduce((a, b) => a + b, 0) / elapsed;
}

/**
 * The statements one webhook sent, replayed straight through `pg` with a fresh message id each time: the
 * database's share of the webhook's cost, without HTTP and handler code.
 */
function statementsOnlyRate(url: string, statements: Statement[], seconds: number): Promise<number> {
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  return poolRate(url, seconds, async (pool) => {
    sequence += 1;
    const sid = `SM${prefix}${sequence.toString(16).padStart(24, '0')}`;
    for (const { text, params } of statements) {
      const values = params?.map((value) =>
        typeof value === 'string' && MESSAGE_SID.test(value) ? sid : value,
      );
      await pool.query({ text, values: values as unknown[] });
    }
  });
}

/** The database's own ceiling: single-row INSERT … ON CONFLICT through `pg`. */
function rawInsertRate(url: string, seconds: number): Promise<number> {
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  return poolRate(url, seconds, (pool) => {
    sequence += 1;
    return pool.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status)
       VALUES ('twilio', $1, 'inbound', $2, $3, $4, 'received')
       ON CONFLICT (provider, provider_message_id) DO NOTHING`,
      [`raw-${prefix}-${sequence}`, '+14155550123', PRACTICE_NUMBER, 'What time do you open on Saturday?'],
    );
  });
}

/** Runs the load generator as a child process and samples this (gateway) process's RSS meanwhile. */
async function e2eLoad(
  options: LoadOptions,
): Promise<{ result: LoadResult; peakRssMb: number; gatewayCpuMs: number }> {
  let peak = process.memoryUsage.rss();
  const cpuBefore = process.cpuUsage();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/load-generator.ts'), JSON.stringify(options)],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  // Includes the warm-up requests; divided by all requests sent, warm-up included.
  return {
    result: JSON.parse(out) as LoadResult,
    peakRssMb: peak / 1024 / 1024,
    gatewayCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

async function endToEnd(): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  const name = `pw_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  const db = createPgDb({ connectionString: url.toString(), max: CONCURRENCY, timeoutMs: 5000 });
  try {
    await migrate(db);
    const counter = countingDb(db);
    setDb(counter.db);
    const gateway = await startGateway({ root, port: 0 });
    // BENCH_ROUTE=status measures the status callback instead (a lighter write, for comparison).
    const hasIncoming =
      process.env.BENCH_ROUTE !== 'status' &&
      gateway.routes.some((route) => route.path === '/webhooks/twilio/sms/incoming');
    const base = {
      url: gateway.url.replace('localhost', '127.0.0.1'),
      authToken: AUTH_TOKEN,
      baseUrl: BASE_URL,
      practiceNumber: PRACTICE_NUMBER,
      concurrency: CONCURRENCY,
      durationMs: SECONDS * 1000,
    };
    const incoming = {
      ...base,
      path: '/webhooks/twilio/sms/incoming',
      kind: 'sms-incoming' as const,
    };
    const status = { ...base, path: '/webhooks/twilio/sms/status', kind: 'sms-status' as const };

    // Round trips on the hot path: the second delivery of each kind, once per-container caches are warm.
    const agent = new Agent({ keepAlive: true });
    const warmStatements = new Map<string, Statement[]>();
    for (const [label, options, expected] of [
      ...(hasIncoming ? [['twilio_sms_incoming', incoming, 200] as const] : []),
      ['twilio_sms_status', status, 204] as const,
    ]) {
      counter.take();
      const firstStatus = await send(agent, options);
      const first = counter.take().length;
      const secondStatus = await send(agent, options);
      const statements = counter.take();
      const warm = statements.length;
      warmStatements.set(options.path, statements);
      if (firstStatus !== expected || secondStatus !== expected)
        throw new Error(`${label} answered ${firstStatus}/${secondStatus}, expected ${expected}`);
      figure(`roundtrips_${label}`, warm, 'queries');
      figure(`roundtrips_${label}_first_in_container`, first, 'queries');
      target(`roundtrips_${label}`, '<= 2 (aim 1)', warm <= 2);
    }
    agent.destroy();
    setDb(db);

    const rawBefore = await rawInsertRate(url.toString(), SECONDS);
    const load = hasIncoming ? incoming : status;
    const { result, peakRssMb, gatewayCpuMs } = await e2eLoad(load);
    const rawAfter = await rawInsertRate(url.toString(), SECONDS);
    const statementsRate = await statementsOnlyRate(
      url.toString(),
      warmStatements.get(load.path) ?? [],
      SECONDS,
    );
    const raw = (rawBefore + rawAfter) / 2;

    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    const rate = result.requests / (result.elapsedMs / 1000);
    const p99 = percentile(sorted, 0.99);
    figure(
      'e2e_route',
      load.path,
      hasIncoming ? 'inbound-sms' : 'status-callback(inbound-sms-route-missing)',
    );
    figure('e2e_requests_per_sec', rate, 'req/s');
    figure('e2e_p50', percentile(sorted, 0.5), 'ms');
    figure('e2e_p99', p99, 'ms');
    figure('e2e_errors', result.errors, 'count');
    figure('e2e_requests', result.requests, 'count');
    figure('raw_insert_per_sec', raw, 'rows/s');
    figure('raw_insert_per_sec_before', rawBefore, 'rows/s');
    figure('raw_insert_per_sec_after', rawAfter, 'rows/s');
    figure('e2e_to_raw_ratio', rate / raw, 'ratio');
    figure('db_statements_only_per_sec', statementsRate, 'webhooks/s');
    figure('e2e_to_statements_ratio', rate / statementsRate, 'ratio');
    figure('gateway_peak_rss', peakRssMb, 'MB');
    const sent = result.requests + result.warmupRequests;
    figure('gateway_cpu_per_request', gatewayCpuMs / sent, 'ms');
    figure('loadgen_cpu_per_request', result.cpuMs / sent, 'ms');
    target('e2e_to_raw_ratio', '>= 0.35', rate / raw >= 0.35);
    target('e2e_p99', '< 10 ms', p99 < 10);
    target('e2e_errors', '0', result.errors === 0);
    if (result.errors) console.error('e2e status counts:', JSON.stringify(result.statusCounts));

    await gateway.close();
  } finally {
    setDb(undefined);
    delete process.env.DATABASE_URL;
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

interface ServerlessDoc {
  custom: {
    esbuild: {
      minify?: boolean;
      target?: string;
      platform?: 'node';
      format?: 'esm' | 'cjs';
      outputFileExtension?: string;
      mainFields?: string[];
      banner?: { js?: string };
      exclude?: string[];
      /** A CommonJS file exporting an array of esbuild plugins, as serverless-esbuild takes it. */
      plugins?: string;
    };
  };
  functions: Record<string, { handler: string; events?: { httpApi?: unknown }[] }>;
}

const execFileAsync = promisify(execFile);

let runtime: string | undefined;
/**
 * The Node.js bundles are imported and invoked with: the Lambda runtime's major (24, scripts/lambda-node.ts),
 * or this process's Node when it cannot be fetched (figures then say so).
 */
function runtimeNode(): string {
  if (runtime) return runtime;
  try {
    runtime = lambdaNode();
  } catch (error) {
    console.error(
      `Node 24 unavailable (${(error as Error).message.split('\n')[0]}); cold starts on ${process.version}`,
    );
    runtime = process.execPath;
  }
  figure('cold_start_node', execFileSync(runtime, ['--version'], { encoding: 'utf8' }).trim(), 'version');
  return runtime;
}

/** Milliseconds from the start of `import()` to the handler in hand, in a fresh node process. */
async function coldImportMs(file: string): Promise<number> {
  const script =
    'const t=performance.now();const m=await import(process.argv[1]);' +
    "if(typeof m.handler!=='function')throw new Error('no handler export');" +
    'process.stdout.write(String(performance.now()-t))';
  const { stdout } = await execFileAsync(
    runtimeNode(),
    ['--input-type=module', '-e', script, pathToFileURL(file).href],
    {
      cwd: root,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' },
    },
  );
  return Number(stdout);
}

const bundleInputs: Record<string, { input: string; kb: number }[]> = {};

async function bundles(): Promise<void> {
  const doc = yaml.load(readFileSync(join(root, 'serverless.yml'), 'utf8'), {
    schema: serverlessYamlSchema,
  }) as ServerlessDoc;
  const options = doc.custom.esbuild;
  const ext = options.outputFileExtension ?? '.js';
  const outdir = join(root, '.esbuild/bench');
  mkdirSync(outdir, { recursive: true });
  const plugins = options.plugins
    ? (createRequire(import.meta.url)(join(root, options.plugins)) as import('esbuild').Plugin[])
    : [];
  const common = {
    plugins,
    bundle: true,
    minify: options.minify ?? true,
    platform: 'node' as const,
    target: options.target ?? 'node22',
    format: options.format ?? 'esm',
    mainFields: options.mainFields,
    banner: options.banner,
    external: [...new Set([...(options.exclude ?? []), '@aws-sdk/*', 'pg-native', '@electric-sql/pglite'])],
    logLevel: 'silent' as const,
    write: true,
  };

  const pgFile = join(outdir, `pg-baseline${ext}`);
  await esbuild.build({
    ...common,
    stdin: { contents: "import pg from 'pg';export const handler=()=>pg;", resolveDir: root, loader: 'js' },
    outfile: pgFile,
  });
  const built: { name: string; file: string; http: boolean }[] = [];
  // The biggest inputs of each bundle go to results.json: where to look when a bundle is over its budget.
  const heaviest: Record<string, { input: string; kb: number }[]> = {};
  for (const [name, fn] of Object.entries(doc.functions)) {
    const source = join(root, `${fn.handler.replace(/\.[^./]+$/, '')}.ts`);
    if (!existsSync(source)) continue;
    const file = join(outdir, `${name}${ext}`);
    try {
      const result = await esbuild.build({ ...common, entryPoints: [source], outfile: file, metafile: true });
      const output = Object.values(result.metafile.outputs)[0];
      heaviest[name] = Object.entries(output?.inputs ?? {})
        .map(([input, { bytesInOutput }]) => ({ input, kb: Math.round(bytesInOutput / 102.4) / 10 }))
        .sort((a, b) => b.kb - a.kb)
        .slice(0, 8);
      built.push({ name, file, http: (fn.events ?? []).some((event) => event.httpApi) });
    } catch (error) {
      console.error(`bundle ${name} failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  // Interleaved runs, so drift on a shared machine hits the baseline and the bundles alike.
  const times = new Map<string, number[]>([
    ['pg', []],
    ...built.map((b) => [b.name, []] as [string, number[]]),
  ]);
  for (let run = 0; run < IMPORT_RUNS; run += 1) {
    times.get('pg')!.push(await coldImportMs(pgFile));
    for (const bundle of built) {
      try {
        times.get(bundle.name)!.push(await coldImportMs(bundle.file));
      } catch (error) {
        if (run === 0)
          console.error(`import ${bundle.name} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  Object.assign(bundleInputs, heaviest);
  const pgMs = median(times.get('pg')!);
  figure('bundle_pg_baseline_size', statSync(pgFile).size / 1024, 'KB');
  figure('bundle_pg_baseline_import', pgMs, 'ms');
  for (const bundle of built) {
    const sizeKb = statSync(bundle.file).size / 1024;
    const samples = times.get(bundle.name)!;
    figure(`bundle_${bundle.name}_size`, sizeKb, 'KB');
    if (samples.length === 0) {
      figure(`bundle_${bundle.name}_import_over_pg`, 'failed', 'ms');
      continue;
    }
    const over = median(samples) - pgMs;
    figure(`bundle_${bundle.name}_import_over_pg`, over, 'ms');
    if (bundle.http) {
      target(`bundle_${bundle.name}_size`, '<= 150 KB', sizeKb <= 150);
      target(`bundle_${bundle.name}_import_over_pg`, '<= 10 ms', over <= 10);
    }
  }
}

async function classification(): Promise<void> {
  const file = join(root, 'bench/classify.ts');
  if (!existsSync(file)) {
    figure('classify_msgs_per_sec', 'unavailable', 'msgs/s(bench/classify.ts-missing)');
    return;
  }
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const match = /classify_msgs_per_sec\s+([\d.]+)/.exec(stdout);
  const rate = match ? Number(match[1]) : Number.NaN;
  figure('classify_msgs_per_sec', rate, 'msgs/s');
  target('classify_msgs_per_sec', '>= 100000', rate >= 100_000);
}

// Holdout quality (bench/classifier-accuracy.ts): figures and targets, and its confusion matrix as printed.
async function classifierQuality(): Promise<void> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/classifier-accuracy.ts')],
    { cwd: root },
  );
  const value = (name: string) => Number(new RegExp(`${name}\\s+([\\d.]+)`).exec(stdout)?.[1]);
  for (const [name, goal, ok] of [
    ['classifier_holdout_accuracy_pct', '>= 97', (v: number) => v >= 97],
    ['classifier_holdout_emergency_recall_pct', '= 100', (v: number) => v === 100],
    ['classifier_holdout_opt_out_recall_pct', '= 100', (v: number) => v === 100],
    ['classifier_holdout_false_opt_outs', '= 0', (v: number) => v === 0],
  ] as const) {
    figure(name, value(name), name.endsWith('_pct') ? '%' : 'messages');
    target(name, goal, ok(value(name)));
  }
  for (const line of stdout.split('\n')) if (line.startsWith('confusion ')) console.log(line);
}

/** bench/report.ts in its own process: a year of history, then `report` for a month and for the year. */
async function reportBench(): Promise<void> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/report.ts')],
    {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 1_800_000,
    },
  );
  for (const [, name, value, unit] of stdout.matchAll(/^(report_\w+) (\S+) (\S+)$/gm)) {
    figure(name!, Number.isNaN(Number(value)) ? value! : Number(value), unit!);
  }
  const value = (name: string) =>
    Number(/^\S+ (\S+)/.exec(stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[1]);
  target('report_month_ms', '< 300 ms', value('report_month_ms') < 300);
  target('report_year_ms', '< 3000 ms', value('report_year_ms') < 3000);
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString(),
};
console.log(`machine ${JSON.stringify(machine.cpu)} ${machine.cores}-cores node-${machine.node}`);

// The plain reference handler beside this project's gateway, both in their own processes (bench/compare.ts).
async function referenceComparison(): Promise<void> {
  const { compareWithReference } = await import('./compare.js');
  await compareWithReference({
    serverUrl,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    authToken: AUTH_TOKEN,
    baseUrl: BASE_URL,
    practiceNumber: PRACTICE_NUMBER,
    figure,
    target,
    migrate: async (url) => {
      const db = createPgDb({ connectionString: url, max: 2 });
      await migrate(db).finally(() => db.close());
    },
  });
}

// The first invocation of every HTTP function from its bundle, in a fresh process (bench/cold-start.ts).
async function firstInvocations(): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `pw_cold_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    const db = createPgDb({ connectionString: url.toString(), max: 2 });
    await migrate(db).finally(() => db.close());
    const { coldStarts } = await import('./cold-start.js');
    await coldStarts({
      bundleDir: join(root, '.esbuild/bench'),
      node: runtimeNode(),
      databaseUrl: url.toString(),
      authToken: AUTH_TOKEN,
      baseUrl: BASE_URL,
      practiceNumber: PRACTICE_NUMBER,
      figure,
      target,
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

// BENCH_STEPS=bundles,first-invocations (labels, comma-separated) runs only those steps.
const only = process.env.BENCH_STEPS?.split(',');
const failures: string[] = [];
for (const [label, step] of [
  ['end-to-end', endToEnd],
  ['reference comparison', referenceComparison],
  ['bundles', bundles],
  ['first-invocations', firstInvocations],
  ['classification', classification],
  ['classifier quality', classifierQuality],
  ['report', reportBench],
] as const) {
  if (only && !only.includes(label)) continue;
  try {
    await step();
  } catch (error) {
    failures.push(`${label}: ${(error as Error).message}`);
    console.error(`${label} failed: ${(error as Error).message}`);
  }
}

writeFileSync(
  join(root, 'bench/results.json'),
  `${JSON.stringify({ machine, concurrency: CONCURRENCY, seconds: SECONDS, figures, targets, failures, bundleInputs }, null, 2)}\n`,
);
const missed = targets.filter((t) => !t.met);
console.error(
  `targets met: ${targets.length - missed.length}/${targets.length}` +
    (missed.length ? `; missed: ${missed.map((t) => `${t.name} (${t.target})`).join(', ')}` : ''),
);
process.exitCode = failures.length ? 1 : 0;
