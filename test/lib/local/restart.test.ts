import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSimulatedRequest, type SimulatedRoute } from '../../../lib/cli/simulate.js';
import { createPgDb, type Db } from '../../../lib/db/index.js';
import { migrate } from '../../../lib/db/migrate.js';
import { type FakeVoipms, startFakeVoipms } from '../../fakes/voipms-api.js';
import {
  PRACTICE_TWILIO_NUMBER,
  PRACTICE_VOIPMS_DID,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  TEST_VOIPMS_TOKEN,
  testEnv,
} from '../../support/config.js';
import { type PgCluster, pgClusterUnavailable, startPgCluster } from '../../support/pg-cluster.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const unavailable = pgClusterUnavailable();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `npm start` as a user runs it (tsx scripts/start.ts), resolved once it listens. */
async function startGatewayProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/start.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('local gateway on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}):\n${output}`)));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe.skipIf(unavailable)('npm start killed and restarted while Postgres is down', () => {
  let cluster: PgCluster;
  let admin: Db;
  let voipms: FakeVoipms;
  let dataDir: string;
  let env: Record<string, string>;
  let baseUrl: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    [cluster, voipms] = await Promise.all([startPgCluster(), startFakeVoipms()]);
    voipms.seedDid(PRACTICE_VOIPMS_DID); // the fake sends only from a DID of the account
    admin = createPgDb({ connectionString: cluster.url, max: 2, timeoutMs: 30_000 });
    await migrate(admin);
    dataDir = mkdtempSync(join(tmpdir(), 'pw-start-'));
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...testEnv(),
      DATABASE_URL: cluster.url,
      DATA_DIR: dataDir,
      PORT: String(port),
      WEBHOOK_BASE_URL: baseUrl,
      VOIPMS_ALLOWED_IPS: '127.0.0.1',
      VOIPMS_API_URL: voipms.url,
      VOIPMS_USERNAME: voipms.username,
      VOIPMS_PASSWORD: voipms.password,
      DB_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'SILENT',
    };
  }, 120_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await admin?.close();
    await Promise.all([cluster?.destroy(), voipms?.close()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  let sequence = 0;
  /** One provider request to the running gateway; returns its status and the id it carries. */
  async function deliver(route: SimulatedRoute) {
    sequence += 1;
    const fields: Record<string, string> =
      route === 'voipms/sms/incoming'
        ? {
            id: String(700_000 + sequence),
            from: `514555${3000 + sequence}`,
            message: 'where are you located?',
          }
        : { MessageSid: `SM${String(sequence).padStart(32, '0')}`, MessageStatus: 'delivered' };
    const request = buildSimulatedRequest(route, fields, {
      baseUrl,
      authToken: TEST_AUTH_TOKEN,
      voipmsToken: TEST_VOIPMS_TOKEN,
      practice: {
        accountSid: TEST_ACCOUNT_SID,
        twilioNumber: PRACTICE_TWILIO_NUMBER,
        voipmsDid: PRACTICE_VOIPMS_DID,
      },
    });
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    return { status: response.status, id: fields.id ?? fields.MessageSid!, patient: fields.from };
  }

  it('stores every accepted request exactly once and replies to every VoIP.ms text once', async () => {
    // Prepare: the gateway runs, then Postgres goes away.
    const first = await startGatewayProcess(env);
    children.push(first);
    await cluster.stop();

    // Act: requests accepted during the outage, the gateway killed outright, a new one started (Postgres still
    // down) that accepts more, then Postgres comes back.
    const accepted = [];
    for (let i = 0; i < 6; i++) {
      accepted.push(await deliver('voipms/sms/incoming'), await deliver('twilio/sms/status'));
    }
    first.kill('SIGKILL');
    await exited(first);
    const heldOnDisk = readdirSync(join(dataDir, 'queues', 'ingest')).filter((name) =>
      name.endsWith('.json'),
    );

    const second = await startGatewayProcess(env);
    children.push(second);
    for (let i = 0; i < 2; i++) {
      accepted.push(await deliver('voipms/sms/incoming'), await deliver('twilio/sms/status'));
    }
    await cluster.start();

    const texts = accepted.filter((request) => request.patient);
    const ids = accepted.map((request) => request.id);
    const storedCount = async () =>
      (
        await admin.query<{ n: number }>(
          'SELECT count(DISTINCT provider_message_id)::int AS n FROM sms_messages WHERE provider_message_id = ANY($1)',
          [ids],
        )
      ).rows[0]!.n;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && ((await storedCount()) < ids.length || voipms.sent.length < texts.length))
      await new Promise((resolve) => setTimeout(resolve, 500));
    // A moment more for any duplicate that would follow.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    second.kill('SIGTERM');
    await exited(second);

    // Assess: every request was answered as the provider expects, and kept on disk across the kill.
    expect(accepted.map((request) => request.status)).toEqual(
      accepted.map((request) => (request.patient ? 200 : 204)),
    );
    expect(heldOnDisk.length).toBeGreaterThanOrEqual(12);
    const stored = await admin.query<{ provider_message_id: string; n: number }>(
      `SELECT provider_message_id, count(*)::int AS n FROM sms_messages
       WHERE provider_message_id = ANY($1) GROUP BY provider_message_id`,
      [ids],
    );
    expect(stored.rows.map((row) => row.provider_message_id).sort()).toEqual([...ids].sort());
    expect(stored.rows.filter((row) => row.n !== 1)).toEqual([]);
    const logs = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_logs');
    expect(logs.rows[0]!.n).toBe(accepted.length);
    expect(voipms.sent.map((text) => text.dst).sort()).toEqual(texts.map((text) => text.patient).sort());
    // Nothing left waiting, nothing dead-lettered.
    for (const queue of ['ingest', 'outboundSms']) {
      const folder = join(dataDir, 'queues', queue);
      const left = existsSync(folder) ? readdirSync(folder, { recursive: true }) : [];
      expect(left.filter((name) => String(name).endsWith('.json'))).toEqual([]);
    }
  }, 180_000);
});
