/**
 * This project's local gateway, alone in a child process so its CPU can be read apart from the load generator
 * and the reference handler: options as JSON in argv[2]; sends `{ url }` over IPC once listening and answers
 * `cpu` messages with its process.cpuUsage(). The environment (tokens, base URL, DATABASE_URL) comes from the
 * parent, set before any project module loads.
 */
import { fileURLToPath } from 'node:url';

export interface GatewayServerOptions {
  databaseUrl: string;
  poolSize: number;
}

if (process.argv[2]?.startsWith('{') && process.send) {
  const options = JSON.parse(process.argv[2]) as GatewayServerOptions;
  const { createPgDb, setDb } = await import('../lib/db/index.js');
  const { startGateway } = await import('../lib/local/gateway.js');
  setDb(createPgDb({ connectionString: options.databaseUrl, max: options.poolSize, timeoutMs: 5000 }));
  const gateway = await startGateway({ root: fileURLToPath(new URL('..', import.meta.url)), port: 0 });
  process.on('message', (message) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (message === 'exit') process.exit(0);
  });
  process.send({ url: gateway.url.replace('localhost', '127.0.0.1') });
}
