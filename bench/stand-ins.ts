/**
 * What the benchmarks hand the functions in place of AWS and VoIP.ms: the queues (the local SQS emulator, in a
 * process of its own so that its work is never counted as the measured process's) and VoIP.ms's way of dating a
 * callback.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QUEUE_URL_VARIABLES } from '../lib/config.js';
import { zoneOffsetAt } from '../lib/practice/zone.js';

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

// The emulator leaves with the benchmark that started it, even one that fails half-way.
const EMULATOR = `import { createSqsServer } from 'local-aws-sqs';
const server = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
process.on('disconnect', () => process.exit(0));
process.send(server.address().port);`;

export interface BenchQueues {
  /** The environment a function needs to send to them: region, credentials, endpoint, one URL per queue. */
  env: Record<string, string>;
  stop(): void;
}

/** Every queue of the system (`bench-<name>`) on a fresh SQS emulator. */
export async function startBenchQueues(): Promise<BenchQueues> {
  const emulator = spawn(process.execPath, ['--input-type=module', '-e', EMULATOR], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    emulator.once('message', (message) => resolve(message as number));
    emulator.once('exit', (code) => reject(new Error(`SQS emulator exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    SQS_ENDPOINT: endpoint,
  };
  try {
    for (const [queue, variable] of Object.entries(QUEUE_URL_VARIABLES)) {
      env[variable] = (await client.send(new CreateQueueCommand({ QueueName: `bench-${queue}` }))).QueueUrl!;
    }
  } finally {
    client.destroy();
  }
  return { env, stop: () => emulator.kill() };
}

/** Now as VoIP.ms writes it: wall-clock time in the account's zone (the default settings' zone here). */
export function voipmsNow(): string {
  const now = Date.now();
  return new Date(now + zoneOffsetAt('America/New_York', now)).toISOString().slice(0, 19).replace('T', ' ');
}
