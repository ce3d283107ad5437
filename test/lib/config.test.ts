import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  getConfig,
  loadConfig,
  resolveSecrets,
  SECRET_NAMES,
  setConfig,
} from '../../lib/config.js';
import { localQueues, QueueUnavailableError, sendMessage } from '../../lib/queue/index.js';
import { type FakeSsm, startFakeSsm } from '../fakes/ssm.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/aws.js';
import { testEnv, useConfig } from '../support/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('loadConfig', () => {
  it('reads every contract variable with defaults', () => {
    const config = loadConfig({ ...testEnv(), WEBHOOK_BASE_URL: 'https://abc.example.com/' });
    expect(config.webhookBaseUrl).toBe('https://abc.example.com');
    expect(config.voipms.allowedIps.allows('203.0.113.5')).toBe(true);
    expect(loadConfig({}).twilio.apiBaseUrl).toBe('https://api.twilio.com');
    expect(loadConfig({}).voipms.apiUrl).toBe('https://voip.ms/api/v1/rest.php');
    expect(loadConfig({}).webhookBaseUrl).toBe('http://localhost:3000');
  });

  it('names every malformed variable in one error', () => {
    const bad = {
      ...testEnv(),
      VOIPMS_ALLOWED_IPS: '10.0.0.0/8, 300.1.1.1',
      WEBHOOK_BASE_URL: 'not a url',
      PORT: '70000',
      ENABLE_TRANSCRIPTION: 'yes',
      TWILIO_PHONE_NUMBER: '555-1234',
    };
    try {
      loadConfig(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of [
        'VOIPMS_ALLOWED_IPS',
        '300.1.1.1',
        'WEBHOOK_BASE_URL',
        'PORT',
        'ENABLE_TRANSCRIPTION',
        'TWILIO_PHONE_NUMBER',
      ]) {
        expect(message).toContain(name);
      }
    }
  });

  it('requires a database and a base URL on Lambda', () => {
    expect(() => loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).toThrow(
      /DATABASE_URL is required[\s\S]*WEBHOOK_BASE_URL is required/,
    );
  });
});

describe('secrets from SSM', () => {
  let ssm: FakeSsm;
  const saved = { ...process.env };
  const prefix = '/pedro-webhooks/test';
  const replayKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    ssm = await startFakeSsm();
  });
  afterAll(async () => {
    await ssm.close();
  });
  beforeEach(() => {
    ssm.parameters = new Map([
      [`${prefix}/twilio-auth-token`, 'token-one'],
      [`${prefix}/replay-key`, replayKey],
    ]);
    ssm.calls.length = 0;
    ssm.delayMs = 0;
    ssm.failWith = undefined;
  });
  afterEach(() => {
    process.env = { ...saved };
    setConfig(undefined);
  });

  /** The environment of a Twilio webhook on Lambda, as the template sets it. */
  const lambdaEnv = (extra: Record<string, string> = {}) => {
    const env: Record<string, string | undefined> = {
      ...testEnv(),
      AWS_LAMBDA_FUNCTION_NAME: 'pedro-webhooks-test-twilioSmsIncoming',
      DATABASE_URL: 'postgres://u@db.example/pw',
      OUTBOUND_SMS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/outbound-sms',
      RECORDINGS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/recordings',
      INGEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/ingest',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: 'role-session',
      SSM_ENDPOINT: ssm.endpoint,
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_AUTH_TOKEN_PARAM: `${prefix}/twilio-auth-token`,
      TWILIO_AUTH_TOKEN_PREVIOUS_PARAM: `${prefix}/twilio-auth-token-previous`,
      REPLAY_KEY_PARAM: `${prefix}/replay-key`,
      ...extra,
    };
    return env;
  };

  it('resolves every <NAME>_PARAM the template sets', () => {
    // Prepare
    const template = yaml.load(readFileSync(join(root, 'serverless.yml'), 'utf8')) as {
      provider: { environment: Record<string, unknown> };
      functions: Record<string, { environment?: Record<string, unknown> }>;
    };
    const environments = [
      template.provider.environment,
      ...Object.values(template.functions).map((f) => f.environment),
    ];

    // Act
    const named = new Set(
      environments.flatMap((env) => Object.keys(env ?? {})).filter((name) => name.endsWith('_PARAM')),
    );

    // Assess
    expect(named.size).toBeGreaterThan(0);
    for (const variable of named) {
      expect(SECRET_NAMES as readonly string[], variable).toContain(variable.replace(/_PARAM$/, ''));
    }
  });

  it('reads the replay key like the other secrets, an absent optional parameter left unset', async () => {
    // Act
    const config = loadConfig(await resolveSecrets(lambdaEnv()));

    // Assess
    expect(config.replayKey?.toString('base64')).toBe(replayKey);
    expect(config.twilio.authToken).toBe('token-one');
    expect(config.twilio.previousAuthToken).toBeUndefined();
    expect(ssm.calls).toHaveLength(1);
  });

  it('stops the cold start naming a missing required parameter', async () => {
    // Prepare
    ssm.parameters.delete(`${prefix}/twilio-auth-token`);

    // Act & Assess
    await expect(resolveSecrets(lambdaEnv())).rejects.toThrow(
      /twilio-auth-token \(TWILIO_AUTH_TOKEN\) does not exist/,
    );
  });

  it('bounds the SSM call at cold start', async () => {
    // Prepare
    ssm.delayMs = 3000;
    const started = Date.now();

    // Act
    const resolving = resolveSecrets(lambdaEnv({ SSM_TIMEOUT_MS: '200' }));

    // Assess
    await expect(resolving).rejects.toThrow(ConfigError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('picks a rotated token up in a warm container once the TTL has passed, both tokens accepted meanwhile', async () => {
    // Prepare: a warm container that read token-one
    process.env = lambdaEnv({ SECRETS_TTL_SECONDS: '1' }) as NodeJS.ProcessEnv;
    expect((await getConfig()).twilio.authToken).toBe('token-one');

    // Act: the operator's rotation: the current token becomes the previous one, the new one the current
    ssm.parameters.set(`${prefix}/twilio-auth-token-previous`, 'token-one');
    ssm.parameters.set(`${prefix}/twilio-auth-token`, 'token-two');
    const beforeTtl = await getConfig();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const afterTtl = await getConfig();

    // Assess
    expect(beforeTtl.twilio.authToken).toBe('token-one');
    expect(afterTtl.twilio).toMatchObject({ authToken: 'token-two', previousAuthToken: 'token-one' });
    expect(ssm.calls).toHaveLength(2);
  });

  it('keeps serving with the secrets it has when a refresh fails', async () => {
    // Prepare
    process.env = lambdaEnv({ SECRETS_TTL_SECONDS: '1' }) as NodeJS.ProcessEnv;
    await getConfig();
    ssm.failWith = { status: 400, type: 'ThrottlingException' };
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Act
    const config = await getConfig();

    // Assess
    expect(config.twilio.authToken).toBe('token-one');
  });

  it('finds every secret under SSM_PREFIX for the operator CLI, all optional', async () => {
    // Prepare: an operator shell names the stage's prefix only
    const env: Record<string, string | undefined> = {
      ...lambdaEnv(),
      AWS_LAMBDA_FUNCTION_NAME: undefined,
      SSM_PREFIX: `${prefix}/`,
    };
    for (const name of SECRET_NAMES) {
      delete env[name];
      delete env[`${name}_PARAM`];
    }

    // Act
    const resolved = await resolveSecrets(env);

    // Assess
    expect(resolved.TWILIO_AUTH_TOKEN).toBe('token-one');
    expect(resolved.REPLAY_KEY).toBe(replayKey);
    expect(resolved.VOIPMS_PASSWORD).toBeUndefined();
    expect(ssm.calls[0]).toHaveLength(SECRET_NAMES.length);
  });
});

describe('queues on Lambda', () => {
  afterEach(() => {
    setConfig(undefined);
    localQueues.reset();
  });

  it('requires every queue URL, naming each missing one', () => {
    const env = { ...testEnv(), AWS_LAMBDA_FUNCTION_NAME: 'f', DATABASE_URL: 'postgres://u@h/d' };
    expect(() => loadConfig(env)).toThrow(
      /OUTBOUND_SMS_QUEUE_URL is required on Lambda[\s\S]*RECORDINGS_QUEUE_URL is required on Lambda[\s\S]*INGEST_QUEUE_URL is required on Lambda/,
    );
  });

  it('never puts a message in memory on Lambda', async () => {
    // Prepare: a Lambda configuration that (somehow) lacks the ingest queue
    const config = useConfig();
    setConfig({ ...config, onLambda: true, queues: { ...config.queues, ingest: undefined } });

    // Act
    const sending = sendMessage('ingest', { job: 'x' });

    // Assess
    await expect(sending).rejects.toThrow(QueueUnavailableError);
    expect(localQueues.messages('ingest')).toEqual([]);
  });
});

describe('database bounds per kind of work', () => {
  it('defaults to short on Lambda, long elsewhere, statement timeout below the client bound', () => {
    const lambda = {
      AWS_LAMBDA_FUNCTION_NAME: 'f',
      WEBHOOK_BASE_URL: 'https://x.example',
      DATABASE_URL: 'postgres://h/d',
    };
    const queues = { OUTBOUND_SMS_QUEUE_URL: 'q', RECORDINGS_QUEUE_URL: 'q', INGEST_QUEUE_URL: 'q' };
    expect(loadConfig({ ...lambda, ...queues })).toMatchObject({
      dbTimeoutMs: 2000,
      dbStatementTimeoutMs: 1500,
    });
    expect(loadConfig({ ...lambda, ...queues, DB_WORK: 'job' })).toMatchObject({ dbTimeoutMs: 60_000 });
    expect(loadConfig({})).toMatchObject({ dbWork: 'batch', dbTimeoutMs: 300_000 });
    expect(() => loadConfig({ DB_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1000' })).toThrow(
      /must be below/,
    );
    expect(() => loadConfig({ DB_WORK: 'fast' })).toThrow(/DB_WORK must be/);
  });

  it('recognises a transaction pooler, where no session setting may be left behind', () => {
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@aws-0-x.pooler.supabase.com:6543/postgres' }).dbPoolMode,
    ).toBe('transaction');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db.example:5432/d' }).dbPoolMode).toBe('session');
    expect(loadConfig({ DB_POOL_MODE: 'transaction' }).dbPoolMode).toBe('transaction');
  });
});
