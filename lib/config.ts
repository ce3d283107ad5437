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
  /** Bound on every Postgres wait on the webhook path, so a dead database cannot stall a provider. */
  dbTimeoutMs: number;
  /** Domain events and staff alerts (docs/events.md). */
  events: {
    /** EventBridge bus the relay publishes to; unset means the in-process bus (local run). */
    busName: string | undefined;
    /** How long an emergency alert waits for an OK before the next recipient is alerted. */
    alertEscalationSeconds: number;
  };
}

/** Secrets that may come from SSM Parameter Store: `<NAME>_PARAM` names the SecureString parameter. */
export const SECRET_NAMES = [
  'TWILIO_AUTH_TOKEN',
  'TWILIO_AUTH_TOKEN_PREVIOUS',
  'VOIPMS_PASSWORD',
  'VOIPMS_WEBHOOK_TOKEN',
  'VOIPMS_WEBHOOK_TOKEN_PREVIOUS',
  'DATABASE_URL',
] as const;

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
      apiUrl: url('VOIPMS_API_URL', 'https://voip.ms/api/v1/rest.php'),
      allowedIps,
      webhookToken: text('VOIPMS_WEBHOOK_TOKEN'),
      previousWebhookToken: text('VOIPMS_WEBHOOK_TOKEN_PREVIOUS'),
    },
    enableTranscription: flag('ENABLE_TRANSCRIPTION'),
    port,
    queues: {
      outboundSms: text('OUTBOUND_SMS_QUEUE_URL'),
      recordings: text('RECORDINGS_QUEUE_URL'),
      ingest: text('INGEST_QUEUE_URL'),
    },
    recordingsBucket: text('RECORDINGS_BUCKET'),
    recordingRetentionDays: integer('RECORDING_RETENTION_DAYS', 365, 1, 36500),
    dataDir: text('DATA_DIR') ?? '.data',
    replayKey,
    dbTimeoutMs: integer('DB_TIMEOUT_MS', 2000, 50, 60_000),
    events: {
      busName: text('EVENT_BUS_NAME'),
      alertEscalationSeconds: integer('ALERT_ESCALATION_SECONDS', 600, 10, 86_400),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Secrets whose parameter may not exist: set only during a rotation, or when replay is wanted. */
const OPTIONAL_SECRETS = new Set([
  'TWILIO_AUTH_TOKEN_PREVIOUS',
  'VOIPMS_WEBHOOK_TOKEN_PREVIOUS',
  'REPLAY_KEY',
]);

/** Fills secrets named by `<NAME>_PARAM` from SSM Parameter Store (one call, decrypted). */
export async function resolveSecrets(env: Env = process.env): Promise<Env> {
  const wanted = SECRET_NAMES.filter((name) => !env[name] && env[`${name}_PARAM`]);
  if (wanted.length === 0) return env;
  const { SSMClient, GetParametersCommand } = await import('@aws-sdk/client-ssm');
  const names = wanted.map((name) => env[`${name}_PARAM`] as string);
  const answer = await new SSMClient({}).send(
    new GetParametersCommand({ Names: names, WithDecryption: true }),
  );
  const missing = (answer.InvalidParameters ?? []).filter((name) =>
    wanted.some((secret) => env[`${secret}_PARAM`] === name && !OPTIONAL_SECRETS.has(secret)),
  );
  if (missing.length) throw new ConfigError(missing.map((name) => `SSM parameter ${name} does not exist`));
  const resolved: Env = { ...env };
  for (const name of wanted) {
    resolved[name] = answer.Parameters?.find((p) => p.Name === env[`${name}_PARAM`])?.Value;
  }
  return resolved;
}

let current: Promise<Config> | undefined;

/** The container's configuration: secrets resolved once per cold start, then reused. */
export function getConfig(): Promise<Config> {
  current ??= resolveSecrets().then((env) => loadConfig(env));
  current.catch(() => {
    current = undefined; // a failed SSM call should be retried on the next invocation
  });
  return current;
}

/** Tests and the local gateway set the configuration directly. */
export function setConfig(config: Config | undefined): void {
  current = config ? Promise.resolve(config) : undefined;
}
