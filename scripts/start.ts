import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
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
  const db = await getDb();
  const applied = await migrate(db);
  const gateway = await startGateway({
    root,
    port: config.port,
    schedules: process.env.LOCAL_SCHEDULES === 'true',
  });

  console.log(`pedro-webhooks local gateway on ${gateway.url}`);
  console.log(
    `database: ${config.databaseUrl ? 'DATABASE_URL' : `embedded PGlite in ${config.dataDir}/pglite`}` +
      (applied.length ? ` (applied ${applied.length} migrations)` : ''),
  );
  console.log(`signatures checked against WEBHOOK_BASE_URL=${config.webhookBaseUrl}`);
  for (const route of gateway.routes)
    console.log(`  ${route.method === '*' ? 'ANY' : route.method}  ${gateway.url}${route.path}`);
  for (const worker of gateway.workers) console.log(`  queue ${worker.queue} → ${worker.function}`);
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
