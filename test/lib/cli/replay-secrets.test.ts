import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as smsStatus } from '../../../functions/twilio-sms-status.js';
import { replay, replayFailed } from '../../../lib/cli/replay.js';
import { loadConfig } from '../../../lib/config.js';
import { type FakeSsm, startFakeSsm } from '../../fakes/ssm.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/aws.js';
import { TEST_AUTH_TOKEN, TEST_BASE_URL, testEnv, useConfig } from '../../support/config.js';
import { serverUrl, useTestDb } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { twilioSmsStatusEvent } from '../../support/twilio.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const testDb = useTestDb();
const key = randomBytes(32);

/** One Twilio status callback answered and sealed, then its row lost: what an operator replays. */
async function loggedTwilioCallback(): Promise<number> {
  useConfig({ REPLAY_KEY: key.toString('base64') });
  expect((await invoke(smsStatus, twilioSmsStatusEvent({ MessageStatus: 'delivered' }))).statusCode).toBe(
    204,
  );
  const { rows } = await testDb.db.query<{ id: number }>('SELECT max(id)::int AS id FROM webhook_logs');
  await testDb.db.query('DELETE FROM sms_messages');
  return rows[0]!.id;
}

const logCount = async () =>
  (await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_logs')).rows[0]!.n;

describe('replay and the stage secrets', () => {
  it('does not run a Twilio entry without the auth token, and counts it as failed', async () => {
    // Prepare: an operator shell with only the database and the replay key
    const id = await loggedTwilioCallback();
    const bare = loadConfig({ REPLAY_KEY: key.toString('base64'), WEBHOOK_BASE_URL: TEST_BASE_URL });
    const logsBefore = await logCount();

    // Act
    const results = await replay(testDb.db, { ids: [id] }, { root, key, config: bare });

    // Assess: no 403 turned out of a good request, no extra log row, and the command fails
    expect(results[0]).toMatchObject({
      id,
      failed: true,
      skipped: expect.stringMatching(/TWILIO_AUTH_TOKEN/),
    });
    expect(results[0]?.after).toBeUndefined();
    expect(await logCount()).toBe(logsBefore);
    expect(replayFailed(results)).toBe(true);
  });

  it('counts an entry refused again as failed', async () => {
    // Prepare: the handlers verify with another token than the one Twilio signed with
    const id = await loggedTwilioCallback();
    const config = useConfig({
      REPLAY_KEY: key.toString('base64'),
      TWILIO_AUTH_TOKEN: 'not-the-signing-token',
    });

    // Act
    const results = await replay(testDb.db, { ids: [id] }, { root, key, config });

    // Assess
    expect(results[0]).toMatchObject({ after: 403, failed: true });
    expect(replayFailed(results)).toBe(true);
  });
});

// The CLI in its own process needs a database it can reach: real Postgres only.
describe.skipIf(!serverUrl)('npm run cli -- replay with SSM_PREFIX', () => {
  let ssm: FakeSsm;
  const prefix = '/pedro-webhooks/prod';
  beforeAll(async () => {
    ssm = await startFakeSsm();
  });
  afterAll(async () => ssm.close());

  const runCli = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(root, 'scripts/cli.ts'), ...args],
        { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const operatorEnv = () => ({
    SSM_PREFIX: prefix,
    SSM_ENDPOINT: ssm.endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    WEBHOOK_BASE_URL: testEnv().WEBHOOK_BASE_URL!,
  });

  it('reads the stage secrets (database, replay key, token) from SSM and replays a Twilio entry', async () => {
    // Prepare
    const id = await loggedTwilioCallback();
    ssm.parameters = new Map([
      [`${prefix}/database-url`, testDb.url!],
      [`${prefix}/replay-key`, key.toString('base64')],
      [`${prefix}/twilio-auth-token`, TEST_AUTH_TOKEN],
    ]);

    // Act
    const { code, stdout } = await runCli(['replay', '--id', String(id)], operatorEnv());

    // Assess
    expect(stdout).toMatch(new RegExp(`${id}.*204.*204`));
    expect(code).toBe(0);
    expect((await testDb.db.query('SELECT status FROM sms_messages')).rows).toEqual([
      { status: 'delivered' },
    ]);
  });

  it('exits non-zero when an entry is refused', async () => {
    // Prepare: the stage's token has changed since (the old one no longer verifies)
    const id = await loggedTwilioCallback();
    ssm.parameters = new Map([
      [`${prefix}/database-url`, testDb.url!],
      [`${prefix}/replay-key`, key.toString('base64')],
      [`${prefix}/twilio-auth-token`, 'rotated-token-0123456789abcdef'],
    ]);

    // Act
    const { code, stdout } = await runCli(['replay', '--id', String(id)], operatorEnv());

    // Assess
    expect(stdout).toMatch(new RegExp(`${id}.*204.*403`));
    expect(code).toBe(1);
  });
});
