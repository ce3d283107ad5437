/**
 * `npx tsx bench/handler-cpu.ts [count]`: CPU per invocation of the hot-path handlers called directly (no HTTP),
 * one at a time, on real Postgres: inbound texts from Twilio and from VoIP.ms (whose reply is queued on the local
 * SQS emulator, a signed request as on Lambda), and Twilio receipts, both for a message never stored (a stray
 * receipt) and for a stored reply (`?reply=`, the usual case). Reported: the CPU in this process and in the Postgres
 * backend that served it (from /proc), beside the reference handler's three inserts on the same database. Less
 * sensitive to a busy machine than the concurrent comparison, so a change to the hot path can be measured before
 * and after on its own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { startBenchQueues, voipmsNow } from './stand-ins.js';

const COUNT = Number(process.argv[2] ?? 2000);
// BENCH_HANDLERS=voipms_sms_incoming,… (labels, comma-separated) measures only those handlers.
const only = process.env.BENCH_HANDLERS?.split(',');
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
  VOIPMS_WEBHOOK_TOKEN: 'bench-voipms-token',
  VOIPMS_ALLOWED_IPS: '127.0.0.1',
});
// The queues a deployed function sends to (VoIP.ms replies go to the outbound queue), set before any project
// module reads its configuration.
const queues = await startBenchQueues();
Object.assign(process.env, queues.env);
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
function event(path: string, fields: Record<string, string>, query = '') {
  const body = new URLSearchParams(fields).toString();
  const signedUrl = `${BASE_URL}${path}${query ? `?${query}` : ''}`;
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: query,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, fields),
    },
    requestContext: { http: { method: 'POST', path, sourceIp: '127.0.0.1' }, requestId: 'r' },
    body,
    isBase64Encoded: false,
  };
}
const sid = () => `SM${(++sequence).toString(16).padStart(32, '0')}`;
/** Twilio texts answered so far: each has a stored reply for a receipt to find. */
const answered: string[] = [];
const inbound = () => {
  const s = sid();
  answered.push(s);
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
/** VoIP.ms's callback as it comes: a GET with the token and the text in the query, dated in the account's zone. */
const voipmsInbound = () => {
  const query = new URLSearchParams({
    token: 'bench-voipms-token',
    id: String(900_000_000 + ++sequence),
    from: String(4_150_000_000 + sequence),
    to: '5005550006',
    message: 'What time do you open on Saturday?',
    date: voipmsNow(),
  }).toString();
  const path = '/webhooks/voipms/sms/incoming';
  return {
    version: '2.0',
    rawPath: path,
    rawQueryString: query,
    headers: {},
    requestContext: { http: { method: 'GET', path, sourceIp: '127.0.0.1' }, requestId: 'r' },
    isBase64Encoded: false,
  };
};
/**
 * A Twilio delivery receipt: for a message never stored (the status route keeps it as a row of its own, a stray
 * receipt), or, with `?reply=`, for a reply sent in TwiML (the usual case).
 */
const receipt = (query = '') => {
  const s = sid();
  return event(
    '/webhooks/twilio/sms/status',
    {
      MessageSid: s,
      SmsSid: s,
      AccountSid: `AC${'0'.repeat(32)}`,
      MessageStatus: 'delivered',
      From: PRACTICE,
      To: '+14155550123',
    },
    query,
  );
};
const status = () => receipt();
const replyReceipt = () => receipt(`reply=${answered.shift()}`);

// The pool keeps its one connection open throughout, so one backend serves every invocation.
const projectBackend = await backendPid((text) => db.query(text));
for (const [label, file, make] of [
  ['twilio_sms_incoming', '../functions/twilio-sms-incoming.js', inbound],
  ['voipms_sms_incoming', '../functions/voipms-sms-incoming.js', voipmsInbound],
  ['twilio_sms_status', '../functions/twilio-sms-status.js', status],
  ['twilio_sms_status_reply', '../functions/twilio-sms-status.js', replyReceipt],
] as const) {
  if (only && !only.includes(label)) continue;
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
queues.stop();
