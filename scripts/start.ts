import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getConfig } from '../lib/config.js';
import { DatabaseUnavailableError, type Db, getDb } from '../lib/db/index.js';
import { migrate } from '../lib/db/migrate.js';
import { startGateway } from '../lib/local/gateway.js';

// `npm start`: the local gateway, with the same handlers as on Lambda.
const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync('.env')) process.loadEnvFile('.env');
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.LOG_LEVEL ?? 'WARN';

try {
  const config = await getConfig();
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  // Queued work is kept on disk whatever the database: what the webhooks accepted survives a restart.
  const queueDirectory = join(config.dataDir, 'queues');
  mkdirSync(queueDirectory, { recursive: true });
  const db = await getDb();
  const applied = await migrateOrWait(db);
  const gateway = await startGateway({
    root,
    port: config.port,
    schedules: process.env.LOCAL_SCHEDULES === 'true',
    queueDirectory,
  });

  console.log(`pedro-webhooks local gateway on ${gateway.url}`);
  console.log(
    `database: ${config.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${config.dataDir}/pglite`}` +
      (applied === undefined
        ? ' (unreachable: webhooks still answer, events wait in the ingest queue; migrations retried)'
        : applied.length
          ? ` (applied ${applied.length} migrations)`
          : ''),
  );
  console.log(`signatures checked against WEBHOOK_BASE_URL=${config.webhookBaseUrl}`);
  for (const route of gateway.routes)
    console.log(`  ${route.method === '*' ? 'ANY' : route.method}  ${gateway.url}${route.path}`);
  for (const worker of gateway.workers) console.log(`  queue ${worker.queue} → ${worker.function}`);
  console.log(`queues kept in ${queueDirectory} (dead letters: npm run cli -- dead-letters list)`);
  if (gateway.skipped.length) console.log(`  not built yet: ${gateway.skipped.join(', ')}`);
  if (!config.twilio.authToken)
    console.log('  note: TWILIO_AUTH_TOKEN unset, Twilio routes refuse every request');
  if (!config.voipms.webhookToken)
    console.log('  note: VOIPMS_WEBHOOK_TOKEN unset, VoIP.ms routes refuse every request');

  const stop = async () => {
    await gateway.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

/**
 * Applies migrations; if the database is down, starts anyway (the webhooks defer events to the persisted
 * ingest queue, which is the point of an outage-proof local run) and retries the migrations in the background.
 */
async function migrateOrWait(db: Db): Promise<string[] | undefined> {
  try {
    return await migrate(db);
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    // The next attempt is scheduled when one fails, never while one runs: two runs at once would both apply
    // the same migrations.
    const retry = () =>
      setTimeout(() => {
        migrate(db).then(
          (applied) =>
            console.log(
              `database reachable again${applied.length ? `, applied ${applied.length} migrations` : ''}`,
            ),
          retry,
        );
      }, 5_000).unref();
    retry();
    return undefined;
  }
}

/** node-pg-migrate wraps the driver's error (as a cause, or only in its message). */
function isUnavailable(error: unknown): boolean {
  for (let current = error; current; current = (current as Error).cause) {
    if (current instanceof DatabaseUnavailableError) return true;
    if (/DatabaseUnavailableError|database unavailable/.test(String((current as Error).message))) return true;
  }
  return false;
}
