import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getConfig } from '../lib/config.js';

// `npm run cli -- <command>`: the operator CLI. Each command's work lives in lib/cli/; this file parses arguments.
const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync('.env')) process.loadEnvFile('.env');
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const USAGE = `usage: npm run cli -- <command> [options]

  classify [--explain]                 read messages on stdin (one per line), print intent and reply as JSON lines
  simulate <route> [Field=value ...]   send a provider-shaped, signed (or tokened) request to a gateway
           [--base-url URL (default WEBHOOK_BASE_URL)] [--signing-base-url URL] [--method GET|POST]
           routes: twilio/voice/incoming twilio/voice/status twilio/sms/incoming twilio/sms/status
                   twilio/recording/status voipms/sms/incoming voipms/call/cdr voipms/recording/ready
  replay (--id N[,N...] | --from ISO [--to ISO]) [--include-refused]
                                       re-process logged webhooks through the same handlers
  report --from YYYY-MM-DD --to YYYY-MM-DD [--format table|csv|json|html] [--section sms|calls|replies]
                                       SMS, call and auto-reply analytics per office day (docs/analytics.md)
  migrate                              apply migrations/ to DATABASE_URL (or the embedded database)
  dead-letters [list|redrive] [--queue outboundSms|recordings|ingest] [--body]
                                       the dead letters of npm start's queues (DATA_DIR/queues), or on AWS
                                       (queue URLs set) peek at each DLQ and redrive it (StartMessageMoveTask)
  events [--follow] [--json] [--limit N]
                                       recent domain events; --follow prints new ones as they are recorded
  settings [--number E164] [--provider twilio|voipms]
                                       show the practice settings (the default row without --number)
  settings set key=value ... [--number E164] [--provider twilio|voipms]
                                       change them; keys: name office_line emergency_line address timezone
                                       hours holidays auto_reply missed_call_text_back alert_events alert_detail
                                       alert_quiet_hours alert_hourly_cap events_include_text
  settings on-call [list | add E164 [--position N] [--events a,b] [--name X] | remove E164] [--number E164]
                                       the on-call list of a practice number (default: TWILIO_PHONE_NUMBER)
  voipms-set-sms                       point the VoIP.ms DID's SMS URL callback at this deployment`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'classify':
      return classifyCommand(rest);
    case 'simulate':
      return simulateCommand(rest);
    case 'replay':
      return replayCommand(rest);
    case 'report':
      return reportCommand(rest);
    case 'migrate':
      return migrateCommand();
    case 'dead-letters':
      return deadLettersCommand(rest);
    case 'voipms-set-sms':
      return voipmsSetSmsCommand();
    case 'events':
      return eventsCliCommand(rest);
    case 'settings':
      return settingsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function classifyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { explain: { type: 'boolean', default: false } } });
  const { classifyLine } = await import('../lib/cli/classify.js');
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    process.stdout.write(`${JSON.stringify(classifyLine(line, { explain: values.explain }))}\n`);
  }
  return 0;
}

async function simulateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'base-url': { type: 'string' },
      'signing-base-url': { type: 'string' },
      method: { type: 'string' },
    },
  });
  const { SIMULATED_ROUTES, buildSimulatedRequest } = await import('../lib/cli/simulate.js');
  const [route, ...pairs] = positionals;
  if (!route || !(SIMULATED_ROUTES as readonly string[]).includes(route)) {
    throw new UsageError(`simulate needs a route, one of: ${SIMULATED_ROUTES.join(', ')}`);
  }
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`fields are Name=value, got "${pair}"`);
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const config = await getConfig();
  const baseUrl = (values['base-url'] ?? config.webhookBaseUrl).replace(/\/+$/, '');
  const method = values.method?.toUpperCase();
  if (method && method !== 'GET' && method !== 'POST') throw new UsageError('--method is GET or POST');
  const request = buildSimulatedRequest(route as (typeof SIMULATED_ROUTES)[number], fields, {
    baseUrl,
    // Twilio signs the URL configured in its console; give it when it differs from the one called.
    signingBaseUrl: values['signing-base-url'] ?? baseUrl,
    authToken: config.twilio.authToken,
    voipmsToken: config.voipms.webhookToken,
    method: method as 'GET' | 'POST' | undefined,
    practice: {
      accountSid: config.twilio.accountSid,
      twilioNumber: config.twilio.phoneNumber,
      twilioApiBaseUrl: config.twilio.apiBaseUrl,
      voipmsDid: config.voipms.did,
    },
  });
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const body = await response.text();
  console.log(`${request.method} ${request.url.replace(/token=[^&]+/, 'token=***')}`);
  console.log(`→ ${response.status} ${response.headers.get('content-type') ?? ''}`);
  if (body) console.log(body);
  return response.status < 400 ? 0 : 1;
}

async function replayCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'include-refused': { type: 'boolean', default: false },
    },
  });
  const ids = values.id?.split(',').map((id) => Number(id.trim()));
  if (ids?.some((id) => !Number.isInteger(id) || id <= 0))
    throw new UsageError('--id takes positive integers');
  for (const [name, value] of [
    ['--from', values.from],
    ['--to', values.to],
  ] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value)))
      throw new UsageError(`${name} must be a date or ISO time`);
  }
  const config = await getConfig();
  if (!config.replayKey) throw new UsageError('REPLAY_KEY is needed to open the kept raw requests');
  const { getDb } = await import('../lib/db/index.js');
  const { replay, replayFailed } = await import('../lib/cli/replay.js');
  const results = await replay(
    await getDb(),
    { ids, from: values.from, to: values.to, includeRefused: values['include-refused'] },
    {
      root,
      key: config.replayKey,
      onProgress: (done, total) => process.stderr.write(`\rreplaying ${done}/${total}`),
    },
  );
  process.stderr.write('\n');
  const { table } = await import('../lib/cli/report.js');
  console.log(
    table(
      results.map((r) => ({
        id: r.id,
        endpoint: r.endpoint,
        before: r.before,
        after: r.after ?? '',
        note: r.skipped ?? '',
      })),
    ),
  );
  return replayFailed(results) ? 1 : 0;
}

async function reportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string', default: 'table' },
      section: { type: 'string' },
    },
  });
  if (!values.from || !values.to) throw new UsageError('report needs --from and --to (YYYY-MM-DD)');
  const { report, REPORT_FORMATS, REPORT_SECTIONS, REPORT_TIMEOUT_MS } = await import('../lib/cli/report.js');
  const format = REPORT_FORMATS.find((f) => f === values.format);
  if (!format) throw new UsageError(`--format takes ${REPORT_FORMATS.join(', ')}`);
  const section = REPORT_SECTIONS.find((s) => s === values.section);
  if (values.section !== undefined && !section)
    throw new UsageError(`--section takes ${REPORT_SECTIONS.join(', ')}`);
  // A report reads weeks of history: its own connection with a reporting timeout, not the webhooks' 2 s.
  const config = await getConfig();
  const { createPgDb, getDb } = await import('../lib/db/index.js');
  const db = config.databaseUrl
    ? createPgDb({ connectionString: config.databaseUrl, timeoutMs: REPORT_TIMEOUT_MS })
    : await getDb();
  try {
    console.log(await report(db, { from: values.from, to: values.to, format, section }));
  } finally {
    if (config.databaseUrl) await db.close();
  }
  return 0;
}

async function migrateCommand(): Promise<number> {
  const config = await getConfig();
  if (!config.databaseUrl) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(config.dataDir, { recursive: true });
  }
  const { getDb } = await import('../lib/db/index.js');
  const { migrate } = await import('../lib/db/migrate.js');
  const applied = await migrate(await getDb());
  console.log(
    applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply: the database is up to date',
  );
  return 0;
}

async function deadLettersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { queue: { type: 'string' }, body: { type: 'boolean', default: false } },
  });
  const action = positionals[0] ?? 'list';
  if (action !== 'list' && action !== 'redrive') throw new UsageError('dead-letters takes list or redrive');
  const dl = await import('../lib/cli/dead-letters.js');
  const queue = values.queue as (typeof dl.QUEUE_NAMES)[number] | undefined;
  if (queue !== undefined && !dl.QUEUE_NAMES.includes(queue))
    throw new UsageError(`--queue is one of ${dl.QUEUE_NAMES.join(', ')}`);
  const config = await getConfig();
  const { table } = await import('../lib/cli/report.js');
  const aws = (queue ? [queue] : dl.QUEUE_NAMES).flatMap((name) => {
    const url = config.queues[name];
    return url ? [{ queue: name, url }] : [];
  });
  if (aws.length > 0) {
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient(process.env.SQS_ENDPOINT ? { endpoint: process.env.SQS_ENDPOINT } : {});
    try {
      if (action === 'list') {
        console.log(table((await dl.listAwsDeadLetters(client, aws, { body: values.body })) as never));
      } else {
        for (const result of await dl.redriveAwsDeadLetters(client, aws))
          console.log(
            result.how === 'move-task'
              ? `${result.queue}: move task started (${result.taskHandle})`
              : `${result.queue}: ${result.moved} moved back`,
          );
      }
    } finally {
      client.destroy();
    }
    return 0;
  }
  const { join } = await import('node:path');
  const directory = join(config.dataDir, 'queues');
  if (action === 'list') {
    console.log(table(dl.listLocalDeadLetters(directory, { queue, body: values.body }) as never));
  } else {
    for (const result of dl.redriveLocalDeadLetters(directory, { queue }))
      console.log(
        `${result.queue}: ${result.moved} moved back (a running npm start picks them up within seconds)`,
      );
  }
  return 0;
}

async function voipmsSetSmsCommand(): Promise<number> {
  const config = await getConfig();
  const { buildSmsCallbackUrl, createVoipmsClient } = await import('../lib/voipms/index.js');
  if (!config.voipms.did) throw new UsageError('VOIPMS_DID is needed');
  if (!config.voipms.webhookToken)
    throw new UsageError('VOIPMS_WEBHOOK_TOKEN is needed (it goes into the callback URL)');
  const client = createVoipmsClient({
    apiUrl: config.voipms.apiUrl,
    username: config.voipms.username ?? '',
    password: config.voipms.password ?? '',
  });
  const result = await client.configureSmsCallback({
    did: config.voipms.did,
    url: buildSmsCallbackUrl(config.webhookBaseUrl, config.voipms.webhookToken),
  });
  console.log(`DID ${result.did}: SMS URL callback set (token hidden)`);
  for (const [name, change] of Object.entries(result.changed)) {
    const shown = (value: unknown) => String(value).replace(/token=[^&}]+/, 'token=***');
    console.log(`  ${name}: ${shown(change.from)} → ${shown(change.to)}`);
  }
  console.log(`  kept unchanged: ${result.kept.length} settings`);
  return 0;
}

async function eventsCliCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      follow: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '20' },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit is a positive whole number');
  const { getDb } = await import('../lib/db/index.js');
  const { eventsCommand } = await import('../lib/cli/events.js');
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await eventsCommand(await getDb(), {
    json: values.json,
    follow: values.follow,
    limit,
    signal: stop.signal,
    write: (line) => process.stdout.write(`${line}\n`),
  });
  return 0;
}

async function settingsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      number: { type: 'string' },
      provider: { type: 'string' },
      position: { type: 'string' },
      events: { type: 'string' },
      name: { type: 'string' },
    },
  });
  const provider = values.provider ?? 'any';
  if (!['twilio', 'voipms', 'any'].includes(provider)) throw new UsageError('--provider is twilio or voipms');
  const { getDb } = await import('../lib/db/index.js');
  const settings = await import('../lib/cli/settings.js');
  const db = await getDb();
  const [action, ...rest] = positionals;
  try {
    if (action === 'on-call') {
      const config = await getConfig();
      const { toE164 } = await import('../lib/phone.js');
      const practice =
        values.number ??
        config.twilio.phoneNumber ??
        (config.voipms.did ? toE164(config.voipms.did) : undefined);
      if (!practice) throw new UsageError('on-call needs --number (the practice number the list belongs to)');
      const [verb = 'list', phone] = rest;
      if (verb === 'add' || verb === 'remove') {
        if (!phone) throw new UsageError(`on-call ${verb} needs the on-call number`);
        if (verb === 'add') {
          await settings.addOnCall(db, {
            practiceNumber: practice,
            phoneNumber: phone,
            position: values.position === undefined ? undefined : Number(values.position),
            events: values.events,
            name: values.name,
          });
        } else if (!(await settings.removeOnCall(db, practice, phone))) {
          console.error(`${phone} is not on the on-call list of ${practice}`);
          return 1;
        }
      } else if (verb !== 'list') throw new UsageError('on-call takes list, add or remove');
      const { table } = await import('../lib/cli/report.js');
      console.log(`On-call list of ${practice} (alerts go in this order, then to the emergency line)`);
      console.log(table(await settings.listOnCall(db, practice)));
      return 0;
    }
    const target = { provider: provider as 'twilio' | 'voipms' | 'any', number: values.number ?? '*' };
    if (action === 'set') {
      if (rest.length === 0) throw new UsageError('settings set needs key=value pairs');
      await settings.applySettings(db, target, rest);
    } else if (action !== undefined && action !== 'show') {
      throw new UsageError('settings takes show, set or on-call');
    }
    console.log(await settings.showSettings(db, target));
    return 0;
  } catch (error) {
    if (error instanceof settings.SettingsError) {
      console.error(error.problems.map((problem) => `invalid: ${problem}`).join('\n'));
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof UsageError ? `${error.message}\n\n${USAGE}` : `error: ${error.message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
