/**
 * Runs each packaged HTTP function bundle on Node.js 24 (the Lambda runtime's version, fetched from the npm
 * registry with `npx -p node@24`), unzipped alone into an empty directory outside the repository — no
 * node_modules anywhere above it, so only Node's own modules are there, as on Lambda — and has it answer one
 * real, signed webhook event against a fresh, migrated Postgres database, queueing through an SQS emulator
 * with the bundle's own SDK client.
 *
 * Usage: TEST_DATABASE_URL=postgres://… tsx scripts/run-bundles.ts   (after `npm run package`; exit 1 on failure)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createPgDb } from '../lib/db/index.js';
import { migrate } from '../lib/db/migrate.js';
import { voipmsEvent, voipmsSmsParams } from '../test/lib/voipms/factories.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalSqs } from '../test/support/aws.js';
import { testEnv } from '../test/support/config.js';
import { httpEvent } from '../test/support/events.js';
import {
  twilioRecordingStatusEvent,
  twilioSmsIncomingEvent,
  twilioSmsStatusEvent,
  twilioVoiceIncomingEvent,
  twilioVoiceStatusEvent,
} from '../test/support/twilio.js';
import { lambdaNode } from './lambda-node.js';
import { PACKAGE_DIR, unzip } from './package-report.js';

const ALLOWED_IP = '203.0.113.10';
const voipmsToken = testEnv().VOIPMS_WEBHOOK_TOKEN as string;

/** One real event per HTTP function, and the status the contract promises for it. */
const CASES: { name: string; event: () => APIGatewayProxyEventV2; status: number }[] = [
  { name: 'twilioVoiceIncoming', event: () => twilioVoiceIncomingEvent(), status: 200 },
  { name: 'twilioVoiceStatus', event: () => twilioVoiceStatusEvent(), status: 204 },
  {
    name: 'twilioSmsIncoming',
    event: () => twilioSmsIncomingEvent({ Body: 'what are your hours?' }),
    status: 200,
  },
  { name: 'twilioSmsStatus', event: () => twilioSmsStatusEvent(), status: 204 },
  { name: 'twilioRecordingStatus', event: () => twilioRecordingStatusEvent(), status: 204 },
  { name: 'voipmsSmsIncoming', event: () => voipmsEvent(voipmsSmsParams({ message: 'hello' })), status: 200 },
  {
    name: 'voipmsCallCdr',
    status: 200,
    event: () =>
      httpEvent({
        path: '/webhooks/voipms/call/cdr',
        rawQuery: `token=${voipmsToken}`,
        sourceIp: ALLOWED_IP,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          cdr: {
            date: '2026-01-05 10:00:00',
            callerid: '"Patient" <5145550123>',
            destination: '5145550000',
            description: 'Inbound',
            account: '100000',
            disposition: 'ANSWERED',
            duration: '00:01:05',
            seconds: '65',
            rate: '0.01',
            total: '0.011',
            uniqueid: `bundle-${randomBytes(4).toString('hex')}`,
          },
        }),
      }),
  },
  {
    name: 'voipmsRecordingReady',
    status: 202,
    event: () =>
      httpEvent({
        path: '/webhooks/voipms/recording/ready',
        rawQuery: `token=${voipmsToken}`,
        sourceIp: ALLOWED_IP,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `callrecording=REC-${randomBytes(4).toString('hex')}`,
      }),
  },
];

/** What the Lambda runtime does for a handler: import it, call it with the event and a context. */
const INVOKE = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [file, eventFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(file).href);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { awsRequestId: 'bundle-run', functionName: 'bundle-run', getRemainingTimeInMillis: () => 10000 };
const started = performance.now();
const response = await handler(event, context);
const ms = Math.round(performance.now() - started);
process.stdout.write('\\nRESULT ' + JSON.stringify({ statusCode: response.statusCode, body: String(response.body ?? '').slice(0, 200), ms, node: process.version }) + '\\n');
process.exit(0); // the connection pool would keep the loop alive; Lambda freezes the process instead
`;

async function freshDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `pw_bundles_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = createPgDb({ connectionString: serverUrl, timeoutMs: 30_000 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createPgDb({ connectionString: url.toString(), timeoutMs: 30_000 });
  await migrate(db);
  await db.close();
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** Runs a process without blocking this one (the SQS emulator answers from this event loop). */
function runNode(
  node: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

async function main(): Promise<void> {
  const serverUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!serverUrl) {
    console.error('run-bundles: set TEST_DATABASE_URL (or DATABASE_URL) to a Postgres server');
    process.exit(2);
  }
  const node = lambdaNode();
  const database = await freshDatabase(serverUrl);
  const sqs = await startLocalSqs();
  const queues = {
    OUTBOUND_SMS_QUEUE_URL: (await sqs.createQueue('outbound-sms')).url,
    RECORDINGS_QUEUE_URL: (await sqs.createQueue('recordings')).url,
    INGEST_QUEUE_URL: (await sqs.createQueue('ingest')).url,
  };
  // Under the system temp directory: no node_modules in any parent, as in /var/task on Lambda.
  const root = mkdtempSync(join(tmpdir(), 'bundles-'));
  const failures: string[] = [];
  try {
    writeFileSync(join(root, 'invoke.mjs'), INVOKE);
    for (const { name, event, status } of CASES) {
      const dir = join(root, name);
      let handlerFile: string | undefined;
      for (const [file, content] of unzip(join(PACKAGE_DIR, `${name}.zip`))) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), content);
        if (/^functions\/[^/]+\.mjs$/.test(file)) handlerFile = join(dir, file);
      }
      if (!handlerFile) throw new Error(`${name}.zip holds no functions/*.mjs handler`);
      if (readdirSync(dir).includes('node_modules')) failures.push(`${name}: its zip carries node_modules`);
      const eventFile = join(root, `${name}.event.json`);
      writeFileSync(eventFile, JSON.stringify(event()));
      const run = await runNode(node, [join(root, 'invoke.mjs'), handlerFile, eventFile], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          ...testEnv(),
          DATABASE_URL: database.url,
          // The factories' recording URLs are Twilio's own; nothing here calls out (work goes to the queue).
          TWILIO_API_BASE_URL: 'https://api.twilio.com',
          STAGE: 'bundle-run',
          ...queues,
          SQS_ENDPOINT: sqs.endpoint,
          AWS_REGION: LOCAL_REGION,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          POWERTOOLS_LOG_LEVEL: 'WARN',
          LOG_LEVEL: 'WARN',
        },
      });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      const result = line
        ? (JSON.parse(line.slice(7)) as { statusCode: number; body: string; ms: number; node: string })
        : undefined;
      const ok = result?.statusCode === status;
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(22)} ${String(result?.statusCode ?? '-').padStart(3)} (want ${status})` +
          (result ? ` ${result.ms} ms on ${result.node}` : ''),
      );
      if (!ok)
        failures.push(
          `${name}: ${result ? `status ${result.statusCode}` : 'no answer'}\n${run.stderr.slice(-2000)}`,
        );
    }
    // The two recording routes queue a download each, through the SQS client inside their bundle.
    const waiting = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queues.RECORDINGS_QUEUE_URL,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    const queued = Number(waiting.Attributes?.ApproximateNumberOfMessages ?? 0);
    console.log(`recordings queue: ${queued} message(s) sent by the bundles`);
    if (queued < 2) failures.push(`recordings queue holds ${queued} message(s), expected 2`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await sqs.close();
    await database.drop();
  }
  if (failures.length > 0) {
    console.error(`run-bundles: ${failures.length} bundle(s) failed on Node 24:`);
    for (const failure of failures) console.error(`  - ${failure}`);
    process.exit(1);
  }
  console.log(`run-bundles: all ${CASES.length} HTTP bundles answered on Node 24 with nothing beside them`);
}

await main();
