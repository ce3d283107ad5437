/**
 * The report over a busy practice's year: 2 M texts and 300 k calls written with bulk generate_series inserts
 * into a scratch database, then `report` timed for one month and for the whole year (median of 3 after a warm-up).
 * History older than the rollups is rolled up once first (timed apart). Prints `name value unit` lines; bench/run.ts runs it and keeps the figures. Targets: month < 300 ms, year < 3 s.
 * BENCH_REPORT_TEXTS / BENCH_REPORT_CALLS scale the history down for a quick look.
 */
import { randomBytes } from 'node:crypto';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const pg = (await import('pg')).default;
const { createPgDb } = await import('../lib/db/index.js');
const { migrate } = await import('../lib/db/migrate.js');
const { report, REPORT_TIMEOUT_MS } = await import('../lib/cli/report.js');

const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const TEXTS = Number(process.env.BENCH_REPORT_TEXTS ?? 2_000_000);
const CALLS = Number(process.env.BENCH_REPORT_CALLS ?? 300_000);
const YEAR_START = '2025-01-01T05:00:00Z';
const YEAR_SECONDS = 365 * 86_400;
const PATIENTS = 40_000;

// One history: pairs of (patient text, auto-reply one second later) on two offices, the VoIP.ms one in another
// zone; a tenth of the texts are other outbound texts. Calls: 90 % inbound with every outcome, some voicemails.
const HISTORY: [string, unknown[]][] = [
  [
    `INSERT INTO voip_settings (provider, phone_number, timezone) VALUES ('voipms', '+15145550100', 'America/Vancouver')
   ON CONFLICT DO NOTHING`,
    [],
  ],
  [
    `INSERT INTO sms_messages (id, provider, provider_message_id, direction, from_number, to_number, body, status,
     auto_response_intent, in_reply_to, created_at, sent_at, updated_at)
   SELECT i,
     CASE WHEN (i / 2) % 4 = 0 THEN 'voipms' ELSE 'twilio' END,
     'B' || i,
     CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
     CASE WHEN i % 2 = 0 THEN p ELSE o END,
     CASE WHEN i % 2 = 0 THEN o ELSE p END,
     CASE WHEN i % 2 = 0 THEN 'when are you open?' ELSE 'We are open 8-5.' END,
     CASE WHEN i % 2 = 0 THEN 'received' WHEN i % 20 = 1 THEN 'undelivered' WHEN i % 20 = 3 THEN 'suppressed'
          WHEN i % 20 = 5 THEN 'sent' ELSE 'delivered' END,
     CASE WHEN i % 2 = 1 AND i % 10 <> 9 THEN (ARRAY['hours', 'appointment', 'default', 'location'])[1 + (i / 2) % 4] END,
     CASE WHEN i % 2 = 1 AND i > 1 THEN i - 1 END,
     t, CASE WHEN (i / 2) % 4 = 0 THEN t END, t + interval '1 minute'
   FROM generate_series(1, $1::int) AS i,
     LATERAL (SELECT '+1415' || lpad(((i / 2)::bigint * 7919 % ${PATIENTS})::text, 7, '0') AS p,
                     CASE WHEN (i / 2) % 4 = 0 THEN '+15145550100' ELSE '+15005550006' END AS o,
                     $2::timestamptz + make_interval(secs => (i / 2) * (${YEAR_SECONDS}.0 / ($1::int / 2)) + i % 2) AS t) x`,
    [TEXTS, YEAR_START],
  ],
  [`SELECT setval('sms_messages_id_seq', $1::int)`, [TEXTS]],
  [
    `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, dial_status, route,
     duration_seconds, dial_duration_seconds, cost, started_at, created_at, updated_at)
   SELECT CASE WHEN i % 3 = 0 THEN 'voipms' ELSE 'twilio' END, 'C' || i,
     CASE WHEN i % 10 = 0 THEN 'outbound-api' ELSE 'inbound' END,
     '+1415' || lpad((i::bigint * 7919 % ${PATIENTS})::text, 7, '0'),
     CASE WHEN i % 3 = 0 THEN '+15145550100' ELSE '+15005550006' END,
     (ARRAY['completed', 'completed', 'completed', 'no-answer', 'busy', 'completed', 'failed', 'canceled'])[1 + i % 8],
     CASE WHEN i % 3 <> 0 THEN (ARRAY['completed', 'no-answer', 'answered', 'busy'])[1 + i % 4] END,
     'office', 30 + i % 300, CASE WHEN i % 3 <> 0 AND i % 4 IN (0, 2) THEN 20 + i % 280 END, 0.01,
     t, t + interval '2 seconds', t + interval '5 minutes'
   FROM generate_series(1, $1::int) AS i,
     LATERAL (SELECT $2::timestamptz + make_interval(secs => i * (${YEAR_SECONDS}.0 / $1::int)) AS t) x`,
    [CALLS, YEAR_START],
  ],
  [
    `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, source, duration_seconds, status)
   SELECT 'twilio', 'RE' || i, 'C' || i, 'RecordVerb', 25, 'archived'
   FROM generate_series(1, $1::int) AS i WHERE i % 3 <> 0 AND i % 8 = 3`,
    [CALLS],
  ],
  ['ANALYZE', []],
];

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const name = `pw_bench_report_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const db = createPgDb({ connectionString: url.toString(), max: 2, timeoutMs: 600_000 });
try {
  await migrate(db);
  const generateMs = await timed(async () => {
    for (const [statement, params] of HISTORY) await db.query(statement, params);
  });
  console.log(`report_history_rows ${TEXTS + CALLS} rows(${TEXTS}-texts,${CALLS}-calls)`);
  console.log(`report_history_generate_ms ${Math.round(generateMs)} ms`);

  // History written before the rollups existed: the first refresh rolls up the year (a month per statement),
  // as the first report after the upgrade would.
  const rollupMs = await timed(() => report(db, { from: '2025-01-01', to: '2025-12-31' }));
  console.log(`report_rollup_year_ms ${Math.round(rollupMs)} ms(once)`);
  const reportDb = createPgDb({ connectionString: url.toString(), max: 1, timeoutMs: REPORT_TIMEOUT_MS });
  const run = async (from: string, to: string) => {
    await report(reportDb, { from, to });
    return median([
      await timed(() => report(reportDb, { from, to })),
      await timed(() => report(reportDb, { from, to })),
      await timed(() => report(reportDb, { from, to })),
    ]);
  };
  const month = await run('2025-06-01', '2025-06-30');
  console.log(`report_month_ms ${Math.round(month)} ms(target<300)`);
  const year = await run('2025-01-01', '2025-12-31');
  console.log(`report_year_ms ${Math.round(year)} ms(target<3000)`);
  await reportDb.close();
} finally {
  await db.close();
  if (process.env.BENCH_REPORT_KEEP) console.log(`report_database ${name} kept`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
