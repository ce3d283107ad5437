import { awsEnvironment } from './aws/request.js';
import { type ParametersAnswer, ssmGetParameters } from './aws/ssm.js';
import { IpAllowList } from './http/ip-allowlist.js';
import { parseReplayKey } from './http/sealed-request.js';

/** Everything the code reads from the environment, checked once. */
export interface Config {
  stage: string;
  onLambda: boolean;
  /** Unset means the embedded database (local run only). */
  databaseUrl: string | undefined;
  /** Public base URL the providers call; the Twilio signature covers it. No trailing slash. */
  webhookBaseUrl: string;
  twilio: {
    accountSid: string | undefined;
    /** Without it every Twilio route refuses requests. */
    authToken: string | undefined;
    /** Also accepted while a token rotation is under way (Twilio's secondary token), then removed. */
    previousAuthToken: string | undefined;
    phoneNumber: string | undefined;
    apiBaseUrl: string;
  };
  voipms: {
    username: string | undefined;
    password: string | undefined;
    did: string | undefined;
    /** Account or sub-account holding the call recordings (VoIP.ms requires it on the recording methods). */
    account: string | undefined;
    apiUrl: string;
    allowedIps: IpAllowList;
    /** Without it every VoIP.ms route refuses requests. */
    webhookToken: string | undefined;
    /** Also accepted while the callback URL is being switched to a new token, then removed. */
    previousWebhookToken: string | undefined;
  };
  enableTranscription: boolean;
  port: number;
  queues: { outboundSms: string | undefined; recordings: string | undefined; ingest: string | undefined };
  recordingsBucket: string | undefined;
  recordingRetentionDays: number;
  /** Where the local run keeps its embedded database and recordings. */
  dataDir: string;
  /** Seals raw requests in webhook_logs for `replay`; unset means they are not kept. */
  replayKey: Buffer | undefined;
  /** Kind of work this process does; it sets the database bounds below (docs/configuration.md#database-timeouts). */
  dbWork: DbWork;
  /** Client-side bound on connecting and on each Postgres wait. */
  dbTimeoutMs: number;
  /** Server-side `statement_timeout`, below `dbTimeoutMs`: a statement the client gave up on was cancelled. */
  dbStatementTimeoutMs: number;
  /** `transaction` behind a transaction pooler (session settings would leak to other clients), else `session`. */
  dbPoolMode: 'session' | 'transaction';
  /** Bound on one SQS SendMessage (one retry included). */
  queueTimeoutMs: number;
  /** Bound on one SSM GetParameters call (cold start and each refresh). */
  ssmTimeoutMs: number;
  /** How long secrets read from SSM are reused before being read again; 0 reads them once per container. */
  secretsTtlMs: number;
  /** Domain events and staff alerts (docs/events.md). */
  events: {
    /** EventBridge bus the relay publishes to; unset means the in-process bus (local run). */
    busName: string | undefined;
    /** How long an emergency alert waits for an OK before the next recipient is alerted. */
    alertEscalationSeconds: number;
  };
}

export type DbWork = 'webhook' | 'job' | 'batch';

/** Client bound per kind of work: webhooks answer providers that wait 15 s; jobs and batches take their time. */
export const DB_TIMEOUTS: Record<DbWork, number> = { webhook: 2000, job: 60_000, batch: 300_000 };

/** Queue URL variables: on Lambda every one is required (a message kept in memory is lost with the container). */
export const QUEUE_URL_VARIABLES = {
  outboundSms: 'OUTBOUND_SMS_QUEUE_URL',
  recordings: 'RECORDINGS_QUEUE_URL',
  ingest: 'INGEST_QUEUE_URL',
} as const;

/** Secrets that may come from SSM Parameter Store: `<NAME>_PARAM` names the SecureString parameter. */
export const SECRET_NAMES = [
  'TWILIO_AUTH_TOKEN',
  'TWILIO_AUTH_TOKEN_PREVIOUS',
  'VOIPMS_PASSWORD',
  'VOIPMS_WEBHOOK_TOKEN',
  'VOIPMS_WEBHOOK_TOKEN_PREVIOUS',
  'DATABASE_URL',
  'REPLAY_KEY',
] as const;

export type SecretName = (typeof SECRET_NAMES)[number];

/**
 * The parameter each secret lives in under the stage's prefix (serverless.yml custom.secrets). With
 * `SSM_PREFIX` set (the operator CLI), every secret not given otherwise is looked up there by this name.
 */
export const SECRET_PARAMETERS: Record<SecretName, string> = {
  TWILIO_AUTH_TOKEN: 'twilio-auth-token',
  TWILIO_AUTH_TOKEN_PREVIOUS: 'twilio-auth-token-previous',
  VOIPMS_PASSWORD: 'voipms-password',
  VOIPMS_WEBHOOK_TOKEN: 'voipms-webhook-token',
  VOIPMS_WEBHOOK_TOKEN_PREVIOUS: 'voipms-webhook-token-previous',
  DATABASE_URL: 'database-url',
  REPLAY_KEY: 'replay-key',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment; every problem is named in one ConfigError. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const url = (name: string, fallback?: string): string => {
    const value = text(name) ?? fallback;
    if (value === undefined) {
      problems.push(`${name} is required`);
      return '';
    }
    try {
      const parsed = new URL(value);
      if (!/^https?:$/.test(parsed.protocol)) problems.push(`${name} must be an http(s) URL, got "${value}"`);
    } catch {
      problems.push(`${name} must be a URL, got "${value}"`);
    }
    return value.replace(/\/+$/, '');
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = text(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  };
  const flag = (name: string): boolean => {
    const value = text(name)?.toLowerCase();
    if (value === undefined || value === 'false' || value === '0') return false;
    if (value === 'true' || value === '1') return true;
    problems.push(`${name} must be "true" or "false", got "${env[name]}"`);
    return false;
  };
  const e164 = (name: string): string | undefined => {
    const value = text(name);
    if (value !== undefined && !/^\+[1-9]\d{6,14}$/.test(value)) {
      problems.push(`${name} must be an E.164 number like +15551234567, got "${value}"`);
    }
    return value;
  };

  const onLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const port = integer('PORT', 3000, 1, 65535);
  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// connection string');
  }
  if (onLambda && !databaseUrl) problems.push('DATABASE_URL is required on Lambda (or DATABASE_URL_PARAM)');

  let allowedIps = IpAllowList.parse('');
  try {
    allowedIps = IpAllowList.parse(text('VOIPMS_ALLOWED_IPS') ?? '');
  } catch (error) {
    problems.push(`VOIPMS_ALLOWED_IPS: ${(error as Error).message}`);
  }
  const accountSid = text('TWILIO_ACCOUNT_SID');
  if (accountSid && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    problems.push('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits');
  }
  const did = text('VOIPMS_DID');
  if (did && !/^\d{10}$/.test(did.replace(/^\+?1(?=\d{10}$)/, ''))) {
    problems.push(`VOIPMS_DID must be a 10-digit number, got "${did}"`);
  }

  const queues = {
    outboundSms: text(QUEUE_URL_VARIABLES.outboundSms),
    recordings: text(QUEUE_URL_VARIABLES.recordings),
    ingest: text(QUEUE_URL_VARIABLES.ingest),
  };
  if (onLambda) {
    for (const [queue, variable] of Object.entries(QUEUE_URL_VARIABLES)) {
      if (!queues[queue as keyof typeof queues]) problems.push(`${variable} is required on Lambda`);
    }
  }

  const dbWork = (text('DB_WORK') ?? (onLambda ? 'webhook' : 'batch')) as DbWork;
  if (!(dbWork in DB_TIMEOUTS)) problems.push(`DB_WORK must be webhook, job or batch, got "${dbWork}"`);
  const dbTimeoutMs = integer('DB_TIMEOUT_MS', DB_TIMEOUTS[dbWork] ?? DB_TIMEOUTS.webhook, 50, 3_600_000);
  // Three quarters of the client bound leaves time for the cancellation (or the commit) to reach the client.
  const dbStatementTimeoutMs = integer(
    'DB_STATEMENT_TIMEOUT_MS',
    Math.floor(dbTimeoutMs * 0.75),
    10,
    3_600_000,
  );
  if (dbStatementTimeoutMs >= dbTimeoutMs) {
    problems.push(
      `DB_STATEMENT_TIMEOUT_MS (${dbStatementTimeoutMs}) must be below DB_TIMEOUT_MS (${dbTimeoutMs})`,
    );
  }
  const dbPoolMode = (text('DB_POOL_MODE') ??
    (usesTransactionPooler(databaseUrl) ? 'transaction' : 'session')) as 'session' | 'transaction';
  if (dbPoolMode !== 'session' && dbPoolMode !== 'transaction') {
    problems.push(`DB_POOL_MODE must be session or transaction, got "${dbPoolMode}"`);
  }

  let replayKey: Buffer | undefined;
  try {
    replayKey = parseReplayKey(text('REPLAY_KEY'));
  } catch (error) {
    problems.push((error as Error).message);
  }

  const config: Config = {
    stage: text('STAGE') ?? 'local',
    onLambda,
    databaseUrl,
    webhookBaseUrl: url('WEBHOOK_BASE_URL', onLambda ? undefined : `http://localhost:${port}`),
    twilio: {
      accountSid,
      authToken: text('TWILIO_AUTH_TOKEN'),
      previousAuthToken: text('TWILIO_AUTH_TOKEN_PREVIOUS'),
      phoneNumber: e164('TWILIO_PHONE_NUMBER'),
      apiBaseUrl: url('TWILIO_API_BASE_URL', 'https://api.twilio.com'),
    },
    voipms: {
      username: text('VOIPMS_USERNAME'),
      password: text('VOIPMS_PASSWORD'),
      did,
      account: text('VOIPMS_ACCOUNT'),
      apiUrl: url('VOIPMS_API_URL', 'https://voip.ms/api/v1/rest.php'),
      allowedIps,
      webhookToken: text('VOIPMS_WEBHOOK_TOKEN'),
      previousWebhookToken: text('VOIPMS_WEBHOOK_TOKEN_PREVIOUS'),
    },
    enableTranscription: flag('ENABLE_TRANSCRIPTION'),
    port,
    queues,
    recordingsBucket: text('RECORDINGS_BUCKET'),
    recordingRetentionDays: integer('RECORDING_RETENTION_DAYS', 365, 1, 36500),
    dataDir: text('DATA_DIR') ?? '.data',
    replayKey,
    dbWork,
    dbTimeoutMs,
    dbStatementTimeoutMs,
    dbPoolMode,
    queueTimeoutMs: integer('SQS_TIMEOUT_MS', 3000, 100, 60_000),
    ssmTimeoutMs: integer('SSM_TIMEOUT_MS', 2000, 100, 60_000),
    secretsTtlMs: integer('SECRETS_TTL_SECONDS', 300, 0, 86_400) * 1000,
    events: {
      busName: text('EVENT_BUS_NAME'),
      alertEscalationSeconds: integer('ALERT_ESCALATION_SECONDS', 600, 10, 86_400),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Supabase's transaction pooler listens on 6543; other transaction poolers are named with DB_POOL_MODE. */
function usesTransactionPooler(databaseUrl: string | undefined): boolean {
  if (!databaseUrl) return false;
  try {
    return new URL(databaseUrl).port === '6543';
  } catch {
    return false;
  }
}

/** Secrets whose parameter may not exist: set only during a rotation, or when replay is wanted. */
const OPTIONAL_SECRETS: ReadonlySet<SecretName> = new Set([
  'TWILIO_AUTH_TOKEN_PREVIOUS',
  'VOIPMS_WEBHOOK_TOKEN_PREVIOUS',
  'REPLAY_KEY',
]);

/** The SSM parameter each secret is read from: `<NAME>_PARAM`, else `SSM_PREFIX`/<name> (optional then). */
function wantedParameters(env: Env): { secret: SecretName; parameter: string; optional: boolean }[] {
  const prefix = env.SSM_PREFIX?.trim().replace(/\/+$/, '');
  return SECRET_NAMES.filter((name) => !env[name]?.trim()).flatMap((secret) => {
    const named = env[`${secret}_PARAM`]?.trim();
    if (named) return [{ secret, parameter: named, optional: OPTIONAL_SECRETS.has(secret) }];
    if (prefix) return [{ secret, parameter: `${prefix}/${SECRET_PARAMETERS[secret]}`, optional: true }];
    return [];
  });
}

/** Whether any secret comes from SSM (then it is re-read every `SECRETS_TTL_SECONDS`). */
export function readsSecretsFromSsm(env: Env = process.env): boolean {
  return wantedParameters(env).length > 0;
}

type ParameterReader = (names: string[], timeoutMs: number, env: Env) => Promise<ParametersAnswer>;

/**
 * Reads parameters with the small signed SSM call when the environment holds credentials (always on Lambda);
 * elsewhere (an operator's shell with a profile or SSO) through the SDK's credential chain.
 */
const readParameters: ParameterReader = async (names, timeoutMs, env) => {
  if (awsEnvironment(env)) return ssmGetParameters(names, { timeoutMs, env });
  const sdk = '@aws-sdk/client-ssm'; // not a literal: keeps the SDK out of the function bundles
  const { SSMClient, GetParametersCommand } = (await import(sdk)) as typeof import('@aws-sdk/client-ssm');
  const client = new SSMClient({ ...(env.SSM_ENDPOINT ? { endpoint: env.SSM_ENDPOINT } : {}) });
  try {
    const answer = await client.send(new GetParametersCommand({ Names: names, WithDecryption: true }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    const values = new Map((answer.Parameters ?? []).map((p) => [p.Name as string, p.Value as string]));
    return { values, invalid: answer.InvalidParameters ?? [] };
  } finally {
    client.destroy();
  }
};

/** Fills secrets named by `<NAME>_PARAM` (or found under `SSM_PREFIX`) from SSM Parameter Store, decrypted. */
export async function resolveSecrets(
  env: Env = process.env,
  read: ParameterReader = readParameters,
): Promise<Env> {
  const wanted = wantedParameters(env);
  if (wanted.length === 0) return env;
  const timeoutMs = Number(env.SSM_TIMEOUT_MS) || 2000;
  let answer: ParametersAnswer;
  try {
    answer = await read([...new Set(wanted.map((w) => w.parameter))], timeoutMs, env);
  } catch (error) {
    throw new ConfigError([`SSM parameters could not be read: ${(error as Error).message}`]);
  }
  const missing = wanted.filter((w) => !w.optional && !answer.values.has(w.parameter));
  if (missing.length) {
    throw new ConfigError(missing.map((w) => `SSM parameter ${w.parameter} (${w.secret}) does not exist`));
  }
  const resolved: Env = { ...env };
  for (const { secret, parameter } of wanted) resolved[secret] = answer.values.get(parameter);
  return resolved;
}

/** After a failed refresh the container keeps its secrets and tries again this much later. */
const REFRESH_RETRY_MS = 30_000;

let cached: { config: Config; expiresAt: number } | undefined;
let loading: Promise<Config> | undefined;

async function load(): Promise<Config> {
  const env = process.env;
  try {
    const config = loadConfig(await resolveSecrets(env));
    const ttl =
      readsSecretsFromSsm(env) && config.secretsTtlMs > 0 ? config.secretsTtlMs : Number.POSITIVE_INFINITY;
    cached = { config, expiresAt: Date.now() + ttl };
    return config;
  } catch (error) {
    if (!cached) throw error; // cold start: nothing to serve with; the next invocation tries again
    // A refresh failed (SSM slow or throttled): keep serving with the secrets we have.
    // Imported here, not at the top: the CLI sets the log level before it loads the logger.
    const { logger } = await import('./observability.js');
    logger.warn('secrets refresh failed; keeping the current ones', { error: (error as Error).message });
    cached = { config: cached.config, expiresAt: Date.now() + REFRESH_RETRY_MS };
    return cached.config;
  }
}

/**
 * The container's configuration. Secrets from SSM are read at cold start and again once `SECRETS_TTL_SECONDS`
 * have passed, so a rotated secret reaches warm containers within minutes, without a deploy.
 */
export function getConfig(): Promise<Config> {
  if (cached && Date.now() < cached.expiresAt) return Promise.resolve(cached.config);
  loading ??= load().finally(() => {
    loading = undefined;
  });
  return loading;
}

/** Tests and the local gateway set the configuration directly (kept until the next call). */
export function setConfig(config: Config | undefined): void {
  cached = config ? { config, expiresAt: Number.POSITIVE_INFINITY } : undefined;
  loading = undefined;
}
