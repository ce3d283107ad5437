/**
 * The first invocation of every HTTP function, as a cold Lambda container sees it (DESIGN.md "Performance
 * targets"): a fresh node process imports the minified bundle (built by the bundles step of bench/run.ts) and
 * invokes its handler once with a signed request against real Postgres, so configuration, the connection and
 * the first statement are all paid. It runs as on Lambda (AWS_LAMBDA_FUNCTION_NAME set: one connection, every
 * queue a real SQS queue, here the local SQS emulator). Reported per function: import, first invocation, their
 * sum, and the sum above the fastest function's (target: within 30 ms). Median of interleaved runs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { readFunctions } from '../lib/local/routes.js';
import { startBenchQueues, voipmsNow } from './stand-ins.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);
const execFileAsync = promisify(execFile);
/** Extra flags for the child, e.g. BENCH_COLD_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to see where it goes. */
const NODE_FLAGS = process.env.BENCH_COLD_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];

export interface ColdStartOptions {
  /** Where the bundles step wrote `<function>.mjs`. */
  bundleDir: string;
  /** The Node.js binary to run them with (the Lambda runtime's major). */
  node: string;
  databaseUrl: string;
  authToken: string;
  baseUrl: string;
  practiceNumber: string;
  figure: (name: string, value: number | string, unit: string) => void;
  target: (name: string, text: string, met: boolean) => void;
}

/** Fields enough for every Twilio route to get past parsing; the others are ignored by each route. */
function twilioFields(practiceNumber: string): Record<string, string> {
  const sid = Date.now().toString(16).padStart(32, '0');
  return {
    AccountSid: `AC${'0'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    MessageSid: `SM${sid}`,
    SmsSid: `SM${sid}`,
    CallSid: `CA${sid}`,
    MessageStatus: 'delivered',
    CallStatus: 'completed',
    Direction: 'inbound',
    From: '+14155550123',
    To: practiceNumber,
    Body: 'What time do you open on Saturday?',
    NumMedia: '0',
    NumSegments: '1',
    RecordingSid: `RE${sid}`,
    RecordingStatus: 'completed',
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/AC${'0'.repeat(32)}/Recordings/RE${sid}`,
    RecordingDuration: '5',
  };
}

/**
 * A well-formed VoIP.ms callback per route (content type, body), so each pays its whole first path. Each is dated
 * now: VoIP.ms calls back as a text arrives, a call ends, a recording is ready.
 */
function voipmsBody(path: string): { type: string; body: string } {
  const id = String(Date.now());
  if (path.includes('/sms/'))
    return {
      type: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({
        id,
        from: '4155550123',
        to: '5005550006',
        message: 'What time do you open on Saturday?',
        date: voipmsNow(),
      }).toString(),
    };
  if (path.includes('/recording/'))
    return {
      type: 'application/x-www-form-urlencoded',
      body: new URLSearchParams({ callrecording: `rec-${id}`, date: voipmsNow() }).toString(),
    };
  return {
    type: 'application/json',
    body: JSON.stringify({
      cdr: {
        uniqueid: `u-${id}`,
        date: voipmsNow(),
        callerid: '<4155550123>',
        destination: '5005550006',
        disposition: 'ANSWERED',
        seconds: '30',
      },
    }),
  };
}

/** The child: import, then one invocation; prints `importMs invokeMs status`. */
const CHILD = `
const [file, eventJson] = process.argv.slice(1);
const t0 = performance.now();
const { handler } = await import(file);
const t1 = performance.now();
const answer = await handler(JSON.parse(eventJson), {
  awsRequestId: 'cold-' + process.pid, getRemainingTimeInMillis: () => 10000,
});
const t2 = performance.now();
process.stdout.write([t1 - t0, t2 - t1, answer.statusCode].join(' '));
process.exit(0);
`;

export async function coldStarts(options: ColdStartOptions): Promise<void> {
  const functions = readFunctions(join(root, 'serverless.yml')).filter(
    (fn) => fn.http.length > 0 && existsSync(join(options.bundleDir, `${fn.name}.mjs`)),
  );
  const events = new Map(
    functions.map((fn) => {
      const path = fn.http[0]!.path;
      const twilio = path.startsWith('/webhooks/twilio/');
      const fields = twilio ? twilioFields(options.practiceNumber) : {};
      const query = twilio ? '' : 'token=bench-voipms-token';
      const voipms = twilio ? undefined : voipmsBody(path);
      const headers: Record<string, string> = {
        'content-type': voipms?.type ?? 'application/x-www-form-urlencoded',
      };
      if (twilio)
        headers['x-twilio-signature'] = getExpectedTwilioSignature(
          options.authToken,
          options.baseUrl + path,
          fields,
        );
      const event = {
        version: '2.0',
        routeKey: `POST ${path}`,
        rawPath: path,
        rawQueryString: query,
        headers,
        requestContext: {
          http: { method: 'POST', path, sourceIp: '127.0.0.1' },
          requestId: 'cold',
          stage: '$default',
        },
        body: voipms?.body ?? new URLSearchParams(fields).toString(),
        isBase64Encoded: false,
      };
      return [fn.name, JSON.stringify(event)] as const;
    }),
  );
  const queues = await startBenchQueues();
  const env = {
    PATH: process.env.PATH,
    ...queues.env,
    DATABASE_URL: options.databaseUrl,
    TWILIO_AUTH_TOKEN: options.authToken,
    TWILIO_PHONE_NUMBER: options.practiceNumber,
    WEBHOOK_BASE_URL: options.baseUrl,
    VOIPMS_WEBHOOK_TOKEN: 'bench-voipms-token',
    VOIPMS_ALLOWED_IPS: '127.0.0.1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const samples = new Map(
    functions.map((fn) => [fn.name, [] as { imp: number; inv: number; status: number }[]]),
  );
  for (let run = 0; run < RUNS; run += 1) {
    for (const fn of functions) {
      const file = pathToFileURL(join(options.bundleDir, `${fn.name}.mjs`)).href;
      try {
        const { stdout } = await execFileAsync(
          options.node,
          [...NODE_FLAGS, '--input-type=module', '-e', CHILD, file, events.get(fn.name)!],
          { cwd: root, env: { ...env, AWS_LAMBDA_FUNCTION_NAME: fn.name }, timeout: 20_000 },
        );
        const [imp, inv, status] = stdout.trim().split(' ').map(Number);
        samples.get(fn.name)!.push({ imp: imp!, inv: inv!, status: status! });
      } catch (error) {
        if (run === 0)
          console.error(`cold start ${fn.name} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  queues.stop();
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
  const totals = new Map<string, number>();
  for (const [name, list] of samples) {
    if (list.length === 0) continue;
    const imp = med(list.map((s) => s.imp));
    const inv = med(list.map((s) => s.inv));
    totals.set(name, med(list.map((s) => s.imp + s.inv)));
    options.figure(`cold_${name}_import`, imp, 'ms');
    options.figure(`cold_${name}_first_invocation`, inv, `ms(status-${list[0]!.status})`);
  }
  const fastest = Math.min(...totals.values());
  options.figure('cold_fastest_import_plus_first_invocation', fastest, 'ms');
  for (const [name, total] of totals) {
    options.figure(`cold_${name}_over_fastest`, total - fastest, 'ms');
    options.target(`cold_${name}_over_fastest`, '<= 30 ms', total - fastest <= 30);
  }
}
