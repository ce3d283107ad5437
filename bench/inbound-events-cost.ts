/**
 * What recording events costs the inbound-text statement: `store_inbound_sms` as it is now (events, staff
 * check) against the body it replaced (migrations/1732500008001, created alongside under another name), in one
 * database, one connection, alternating blocks so both see the same machine. A typical text: a patient asks
 * for the hours and gets a reply (two events: sms.received, sms.auto_replied).
 * Run: `npx tsx bench/inbound-events-cost.ts` (BENCH_DATABASE_URL or TEST_DATABASE_URL, default local server).
 * Prints `inbound_statement_ms_before`, `inbound_statement_ms_after` and the ratio.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPgDb } from '../lib/db/index.js';
import { migrate } from '../lib/db/migrate.js';

const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const BLOCK = Number(process.env.BENCH_BLOCK ?? 200);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 20);

const name = `pw_bench_events_${randomBytes(4).toString('hex')}`;
const admin = createPgDb({ connectionString: serverUrl, timeoutMs: 30_000 });
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const db = createPgDb({ connectionString: url.toString(), max: 1, timeoutMs: 30_000 });
try {
  await migrate(db);
  const previous = readFileSync(
    new URL('../migrations/1732500008001_follow-ups.sql', import.meta.url),
    'utf8',
  );
  const body = previous.slice(
    previous.indexOf('CREATE FUNCTION store_inbound_sms('),
    previous.indexOf('END $$;') + 7,
  );
  await db.query(
    body.replace('CREATE FUNCTION store_inbound_sms(', 'CREATE FUNCTION store_inbound_sms_before('),
  );

  const decision = JSON.stringify({
    intent: 'hours',
    language: 'en',
    reply: 'We are open 8 to 5.',
    opt_out: null,
    keyword: null,
    confirmation: false,
  });
  let sequence = 0;
  const call = (fn: string) => {
    sequence++;
    const from = `+1415${String(5_000_000 + sequence).padStart(7, '0')}`;
    return db.query(
      `SELECT * FROM ${fn}($1, $2, $3, $4, $5, 'en', 1, 0, '{}', $6, $6, current_date, 6, 'hours',
         '10 minutes', 'queued', now(), false)`,
      [
        'twilio',
        `SM${sequence.toString(16).padStart(32, '0')}`,
        from,
        '+15005550006',
        'what are your hours?',
        decision,
      ],
    );
  };
  const block = async (fn: string) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BLOCK; i++) await call(fn);
    return Number(process.hrtime.bigint() - start) / 1e6 / BLOCK;
  };
  // Warm-up: plans cached, tables and indexes in memory.
  await block('store_inbound_sms_before');
  await block('store_inbound_sms');
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    before.push(await block('store_inbound_sms_before'));
    after.push(await block('store_inbound_sms'));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const b = median(before);
  const a = median(after);
  process.stdout.write(`inbound_statement_ms_before ${b.toFixed(3)} ms\n`);
  process.stdout.write(`inbound_statement_ms_after ${a.toFixed(3)} ms\n`);
  process.stdout.write(`inbound_statement_after_over_before ${(a / b).toFixed(2)} x\n`);
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.close();
}
