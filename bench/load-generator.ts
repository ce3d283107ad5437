import { Agent, request } from 'node:http';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

/**
 * The load generator, run as a child process so signing and HTTP client work do not share the gateway's
 * event loop. Sends signed Twilio webhooks at a fixed concurrency for a fixed time and prints one JSON result.
 */
export interface LoadOptions {
  url: string;
  path: string;
  kind: 'sms-incoming' | 'sms-status';
  authToken: string;
  baseUrl: string;
  concurrency: number;
  durationMs: number;
  practiceNumber: string;
  /** Sign this many requests before the clock starts (then sign on demand): the sender's cost stays out. */
  presigned?: number;
  /** Warm-up before the measured run (default: a fifth of the duration, at most a second). */
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statusCounts: Record<string, number>;
  elapsedMs: number;
  latenciesMs: number[];
  /** CPU time of the generator process (user + system), warm-up included. */
  cpuMs: number;
  warmupRequests: number;
}

const BODIES = [
  'Hi, can I book an appointment for a cleaning next week?',
  'What time do you open on Saturday?',
  'Where is your office? Is there parking?',
  'Do you take Delta Dental insurance?',
  'Thanks, see you tomorrow',
  '¿Puedo hacer una cita para el martes?',
];

let sequence = 0;
const sid = () => {
  sequence += 1;
  return `SM${(process.pid.toString(16) + Date.now().toString(16) + sequence.toString(16).padStart(10, '0')).padStart(32, '0').slice(-32)}`;
};
const phone = () => `+1415${String(2000000 + Math.floor(Math.random() * 7_999_999)).padStart(7, '0')}`;

function params(options: LoadOptions): Record<string, string> {
  const messageSid = sid();
  const common = { AccountSid: `AC${'0'.repeat(31)}1`, ApiVersion: '2010-04-01', MessageSid: messageSid };
  if (options.kind === 'sms-status') {
    return {
      ...common,
      SmsSid: messageSid,
      MessageStatus: 'delivered',
      From: options.practiceNumber,
      To: phone(),
    };
  }
  return {
    ...common,
    SmsSid: messageSid,
    SmsMessageSid: messageSid,
    From: phone(),
    To: options.practiceNumber,
    Body: BODIES[sequence % BODIES.length]!,
    NumMedia: '0',
    NumSegments: '1',
    FromCountry: 'US',
    ToCountry: 'US',
  };
}

interface Signed {
  body: string;
  signature: string;
}

function sign(options: LoadOptions): Signed {
  const fields = params(options);
  return {
    body: new URLSearchParams(fields).toString(),
    signature: getExpectedTwilioSignature(options.authToken, options.baseUrl + options.path, fields),
  };
}

/** Requests signed ahead of time, each with its own message id, taken in order. */
const prepared: Signed[] = [];
export function presign(options: LoadOptions, count: number): void {
  for (let i = 0; i < count; i += 1) prepared.push(sign(options));
  prepared.reverse();
}

/** One signed webhook; resolves to the status code (0 on a network error). */
export function send(agent: Agent, options: LoadOptions): Promise<number> {
  const { body, signature } = prepared.pop() ?? sign(options);
  return new Promise((resolve) => {
    const req = request(
      `${options.url}${options.path}`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-twilio-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const expected = options.kind === 'sms-status' ? 204 : 200;
  const latenciesMs: number[] = [];
  const statusCounts: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const status = await send(agent, options);
      latenciesMs.push(performance.now() - t0);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (status !== expected) errors += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return {
    requests: latenciesMs.length,
    errors,
    statusCounts,
    elapsedMs,
    latenciesMs,
    cpuMs: 0,
    warmupRequests: 0,
  };
}

// Run as a child: options as JSON in argv[2], result as JSON on stdout.
if (process.argv[2]?.startsWith('{')) {
  const options = JSON.parse(process.argv[2]) as LoadOptions;
  if (options.presigned) presign(options, options.presigned);
  // A short warm-up so connection setup and JIT are not in the measurement.
  const warmupMs = options.warmupMs ?? Math.min(1000, options.durationMs / 5);
  const warmup = warmupMs > 0 ? await runLoad({ ...options, durationMs: warmupMs }) : { requests: 0 };
  const result = await runLoad(options);
  const cpu = process.cpuUsage();
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  result.warmupRequests = warmup.requests;
  process.stdout.write(JSON.stringify(result));
}
