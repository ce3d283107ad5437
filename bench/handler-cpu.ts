/**
 * `npx tsx bench/handler-cpu.ts [count]`: CPU per invocation of the twilio/sms/incoming and twilio/sms/status
 * handlers called directly (no HTTP), one at a time, on real Postgres: in this process, and in the Postgres
 * backend that served it (from /proc), beside the reference handler's three inserts on the same database. Less
 * sensitive to a busy machine than the concurrent comparison, so a change to the hot path can be measured before
 * and after on its own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

const COUNT = Number(process.argv[2] ?? 2000);
const AUTH_TOKEN = 'bench-auth-token-0123456789abcdef';
const BASE_URL = 'https://bench.example.test';
const PRACTICE = '+15005550006';
Object.assign(process.env, {
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: PRACTICE,
  WEBHOOK_BASE_URL: BASE_URL,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
const name = `pw_hcpu_${process.pid}_${randomBytes(3).toString('hex')}`;
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const { referenceWrites } = await import('./reference-server.js');
const { createPgDb, setDb } = await import('../lib/db/index.js');
const { migrate } = await import('../lib/db/migrate.js');
const db = createPgDb({ connectionString: url.toString(), max: 1 });
await migrate(db);
setDb(db);

/** utime + stime of a Postgres backend so far, in microseconds (clock ticks of 10 ms). */
function backendCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
const backendPid = async (query: (text: string) => Promise<{ rows: unknown[] }>) =>
  (await query('SELECT pg_backend_pid() AS pid')).rows.map((row) => (row as { pid: number }).pid)[0]!;

let sequence = 0;
function event(path: string, fields: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(AUTH_TOKEN, BASE_URL + path, fields),
    },
    requestContext: { http: { method: 'POST', path, sourceIp: '127.0.0.1' }, requestId: 'r' },
    body,
    isBase64Encoded: false,
  };
}
const sid = () => `SM${(++sequence).toString(16).padStart(32, '0')}`;
const inbound = () => {
  const s = sid();
  return event('/webhooks/twilio/sms/incoming', {
    MessageSid: s,
    SmsSid: s,
    AccountSid: `AC${'0'.repeat(32)}`,
    From: `+1415${String(2000000 + sequence).padStart(7, '0')}`,
    To: PRACTICE,
    Body: 'What time do you open on Saturday?',
    NumMedia: '0',
    NumSegments: '1',
  });
};
const status = () => {
  const s = sid();
  return event('/webhooks/twilio/sms/status', {
    MessageSid: s,
    SmsSid: s,
    AccountSid: `AC${'0'.repeat(32)}`,
    MessageStatus: 'delivered',
    From: PRACTICE,
    To: '+14155550123',
  });
};

// The pool keeps its one connection open throughout, so one backend serves every invocation.
const projectBackend = await backendPid((text) => db.query(text));
for (const [label, file, make] of [
  ['twilio_sms_incoming', '../functions/twilio-sms-incoming.js', inbound],
  ['twilio_sms_status', '../functions/twilio-sms-status.js', status],
] as const) {
  const { handler } = (await import(file)) as {
    handler: (e: unknown, c: unknown) => Promise<{ statusCode: number }>;
  };
  const events = Array.from({ length: COUNT + 200 }, make);
  const invoke = async (e: unknown) => {
    const context = { awsRequestId: `req-${++sequence}`, getRemainingTimeInMillis: () => 30_000 };
    const answer = await handler(e, context);
    if (answer.statusCode >= 300) throw new Error(`${label} answered ${answer.statusCode}`);
  };
  for (const e of events.slice(0, 200)) await invoke(e);
  const pgBefore = backendCpuUs(projectBackend);
  const before = process.cpuUsage();
  for (const e of events.slice(200)) await invoke(e);
  const cpu = process.cpuUsage(before);
  console.log(`handler_cpu_${label} ${Math.round((cpu.user + cpu.system) / COUNT)} us`);
  console.log(`handler_pg_cpu_${label} ${Math.round((backendCpuUs(projectBackend) - pgBefore) / COUNT)} us`);
}

// The reference's three inserts for the same texts, through one connection of their own.
const client = new pg.Client({ connectionString: url.toString() });
await client.connect();
const referenceBackend = await backendPid((text) => client.query(text));
const referenceText = async () => {
  const s = sid();
  const fields = { MessageSid: s, From: `+1415${String(2000000 + sequence).padStart(7, '0')}`, To: PRACTICE };
  await referenceWrites(
    client,
    { ...fields, Body: 'What time do you open on Saturday?' },
    'We open at 8.',
    'hours',
    {
      path: '/webhooks/twilio/sms/incoming',
      sourceIp: '127.0.0.1',
      durationMs: 1,
    },
  );
};
for (let i = 0; i < 200; i++) await referenceText();
const referenceBefore = backendCpuUs(referenceBackend);
for (let i = 0; i < COUNT; i++) await referenceText();
console.log(
  `handler_pg_cpu_reference_sms_incoming ${Math.round((backendCpuUs(referenceBackend) - referenceBefore) / COUNT)} us`,
);
await client.end();
await db.close();
await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
await admin.end();
