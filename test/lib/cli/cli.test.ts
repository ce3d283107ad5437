import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as smsStatus } from '../../../functions/twilio-sms-status.js';
import { replay } from '../../../lib/cli/replay.js';
import { report } from '../../../lib/cli/report.js';
import { buildSimulatedRequest, type SimulatedRoute } from '../../../lib/cli/simulate.js';
import { type Gateway, startGateway } from '../../../lib/local/gateway.js';
import { localQueues } from '../../../lib/queue/index.js';
import { startFakeVoipms } from '../../fakes/voipms-api.js';
import { TEST_AUTH_TOKEN, TEST_VOIPMS_TOKEN, testEnv, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { twilioSmsStatusEvent } from '../../support/twilio.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const testDb = useTestDb();

/** Runs the CLI as an operator would (`npm run cli -- …` is `tsx scripts/cli.ts …`). */
function cli(args: string[], { input, env = {} }: { input?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts/cli.ts'), ...args],
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('classify', () => {
  it('reads messages on stdin and writes one JSON object per line', async () => {
    const { code, stdout } = await cli(['classify'], {
      input: 'can i get an apointment thurs?\nmy face is swollen and it hurts so bad\n\nSTOP\n',
    });
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.text, line.intent])).toEqual([
      ['can i get an apointment thurs?', 'appointment'],
      ['my face is swollen and it hurts so bad', 'emergency'],
      ['STOP', 'opt_out'],
    ]);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['intent', 'reply', 'text']);
      expect(typeof line.reply).toBe('string');
    }
  });

  it('shows language, confidence and evidence with --explain', async () => {
    const { stdout } = await cli(['classify', '--explain'], { input: '¿tienen cita para mañana?\n' });
    const line = JSON.parse(stdout);
    expect(line).toMatchObject({ intent: 'appointment', language: 'es' });
    expect(line.evidence.length).toBeGreaterThan(0);
    expect(line.reply).toMatch(/cita/);
  });
});

describe('argument errors', () => {
  it.each([
    [['nonsense'], /unknown command "nonsense"/],
    [['simulate', 'twilio/nowhere'], /simulate needs a route/],
    [['simulate', 'twilio/sms/status', 'novalue'], /fields are Name=value/],
    [['report', '--from', '2026-11-01'], /report needs --from and --to/],
    [['replay'], /REPLAY_KEY is needed|replay needs --id/],
    [['replay', '--id', 'abc'], /--id takes positive integers/],
  ])('%j fails clearly with the usage', async (args, message) => {
    const { code, stderr } = await cli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: npm run cli');
  });
});

describe('simulate against the local gateway', () => {
  let gateway: Gateway;
  let config: ReturnType<typeof useConfig>;
  beforeAll(async () => {
    gateway = await startGateway({ root, port: 0 });
    config = useConfig({ WEBHOOK_BASE_URL: gateway.url, VOIPMS_ALLOWED_IPS: '127.0.0.1, ::1' });
  });
  afterAll(async () => {
    await gateway?.close();
    localQueues.reset();
  });

  const expected: Record<string, [number, RegExp]> = {
    'twilio/voice/incoming': [200, /xml/],
    'twilio/voice/status': [204, /.*/],
    'twilio/sms/incoming': [200, /xml/],
    'twilio/sms/status': [204, /.*/],
    'twilio/recording/status': [204, /.*/],
    'voipms/sms/incoming': [200, /text\/plain/],
    'voipms/call/cdr': [200, /json/],
    'voipms/recording/ready': [202, /json/],
  };

  // Every route the CLI must simulate, from the expectations above rather than the CLI's own list.
  it.each(Object.keys(expected) as SimulatedRoute[])('round-trips %s', async (route) => {
    const request = buildSimulatedRequest(
      route,
      {},
      {
        baseUrl: gateway.url,
        authToken: TEST_AUTH_TOKEN,
        voipmsToken: TEST_VOIPMS_TOKEN,
        practice: { accountSid: config.twilio.accountSid, twilioApiBaseUrl: config.twilio.apiBaseUrl },
      },
    );
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const [status, contentType] = expected[route]!;
    expect(response.status, await response.clone().text()).toBe(status);
    if (status !== 204) expect(response.headers.get('content-type')).toMatch(contentType);
    const logged = await testDb.db.query('SELECT status_code FROM webhook_logs WHERE endpoint = $1', [
      `/webhooks/${route}`,
    ]);
    expect(logged.rows.at(-1)).toEqual({ status_code: status });
  });

  it('round-trips through the CLI process, signed with TWILIO_AUTH_TOKEN', async () => {
    const env = { ...testEnv(), WEBHOOK_BASE_URL: gateway.url };
    const { code, stdout } = await cli(['simulate', 'twilio/sms/incoming', 'Body=where r u located'], {
      env,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/→ 200/);
    expect(stdout).toMatch(/<Message[ >]/);
    const forged = await cli(['simulate', 'twilio/sms/status'], {
      env: { ...env, TWILIO_AUTH_TOKEN: 'wrong-token' },
    });
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/→ 403/);
  });
});

describe('report', () => {
  it('prints the day tables of the analytics views for the range', async () => {
    const db = testDb.db;
    await db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, auto_response_intent, created_at)
       VALUES ('twilio', 'SM1', 'inbound', '+14155550100', '+15005550006', 'hi', 'received', NULL, '2026-11-10T15:00Z'),
              ('twilio', 'reply:SM1', 'outbound', '+15005550006', '+14155550100', 'hello', 'delivered', 'hours', '2026-11-10T15:00Z')`,
    );
    await db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, status, duration_seconds, cost, started_at)
       VALUES ('voipms', 'u1', 'inbound', 'completed', 65, 0.011, '2026-11-10T16:00Z'),
              ('voipms', 'u2', 'inbound', 'no-answer', 0, 0, '2026-11-10T17:00Z')`,
    );
    const text = await report(db, { from: '2026-11-01', to: '2026-11-30' });
    // day, provider, number, inbound, outbound, delivered, failed, replies, replies delivered, by intent
    expect(text).toMatch(/2026-11-10\s+twilio\s+\+15005550006\s+1\s+1\s+1\s+0\s+1\s+1\s+hours=1/);
    // day, provider, (no number), calls, inbound, answered, missed, voicemails, failed, talk seconds
    expect(text).toMatch(/2026-11-10\s+voipms\s+2\s+2\s+1\s+1\s+0\s+0\s+65/);
    // The reply to +14155550100 was followed by a call from that number within the day.
    await db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, status, created_at)
       VALUES ('twilio', 'CA1', 'inbound', '+14155550100', 'completed', '2026-11-10T18:00Z')`,
    );
    expect(await report(db, { from: '2026-11-01', to: '2026-11-30' })).toMatch(
      /hours\s+en\s+1\s+1\s+0\s+1\s+100/,
    );
    await expect(report(db, { from: '2026-11-30', to: '2026-11-01' })).rejects.toThrow(
      '--from must not be after --to',
    );
  });
});

describe('replay', () => {
  it('re-processes a logged request from its sealed copy, and changes nothing the second time', async () => {
    const key = randomBytes(32);
    useConfig({ REPLAY_KEY: key.toString('base64') });
    const event = twilioSmsStatusEvent({ MessageStatus: 'delivered' });
    expect((await invoke(smsStatus, event)).statusCode).toBe(204);
    const [{ id }] = (await testDb.db.query<{ id: number }>('SELECT id FROM webhook_logs')).rows as [
      { id: number },
    ];
    await testDb.db.query('DELETE FROM sms_messages'); // as if the write had been lost

    const results = await replay(testDb.db, { ids: [id] }, { root, key });
    const again = await replay(testDb.db, { ids: [id] }, { root, key });

    expect(results).toEqual([{ id, endpoint: '/webhooks/twilio/sms/status', before: 204, after: 204 }]);
    expect(again[0]?.after).toBe(204);
    expect((await testDb.db.query('SELECT status FROM sms_messages')).rows).toEqual([
      { status: 'delivered' },
    ]);
    expect((await testDb.db.query('SELECT count(*)::int AS n FROM webhook_logs')).rows).toEqual([{ n: 3 }]);
    await expect(replay(testDb.db, { ids: [id] }, { root, key: randomBytes(32) })).rejects.toThrow();
  });
});

describe('voipms-set-sms', () => {
  it("points the DID's SMS callback at this deployment, keeping its other settings", async () => {
    const fake = await startFakeVoipms();
    try {
      fake.seedDid('5145550000', { sms_forward: '5145559999', sms_email: 'front@example.test' });
      const env = {
        ...testEnv(),
        WEBHOOK_BASE_URL: 'https://hooks.example.test',
        VOIPMS_API_URL: fake.url,
        VOIPMS_USERNAME: fake.username,
        VOIPMS_PASSWORD: fake.password,
      };
      const { code, stdout } = await cli(['voipms-set-sms'], { env });
      expect(code).toBe(0);
      expect(stdout).toContain('SMS URL callback set');
      expect(stdout).not.toContain(TEST_VOIPMS_TOKEN);
      const did = fake.did('5145550000')!;
      expect(did.sms_url_callback).toMatch(
        /^https:\/\/hooks\.example\.test\/webhooks\/voipms\/sms\/incoming\?token=/,
      );
      expect(did.sms_url_callback_enabled).toBe('1');
      expect(did).toMatchObject({ sms_forward: '5145559999', sms_email: 'front@example.test' });
      expect(fake.callsTo('setSMS')).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('refuses to run without the webhook token it must put in the URL', async () => {
    const { code, stderr } = await cli(['voipms-set-sms'], {
      env: { ...testEnv(), VOIPMS_WEBHOOK_TOKEN: '' },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('VOIPMS_WEBHOOK_TOKEN is needed');
  });
});

describe('migrate', () => {
  it('applies the migrations to an empty database, then has nothing to apply', async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'pw-migrate-')) };
    const first = await cli(['migrate'], { env });
    const second = await cli(['migrate'], { env });
    expect(first.stdout).toMatch(/^applied: 1732500000000_init/);
    expect(second.stdout).toContain('nothing to apply');
  }, 180_000); // two CLI processes, each starting an embedded Postgres and applying every migration
});
