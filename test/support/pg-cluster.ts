import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A throwaway Postgres cluster a test owns and may stop and start at will (outage tests). Built with the
 * server's own `initdb` and `pg_ctl`, in a temporary directory, on a free port of 127.0.0.1, trust auth.
 */
export interface PgCluster {
  /** Connection string of the `postgres` database as superuser `postgres`. */
  url: string;
  port: number;
  dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server (if running) and deletes its directory. */
  destroy(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb and pg_ctl, if any. */
export function findPgBin(): string | undefined {
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'pg_ctl'))) return process.env.PG_BIN;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((version) => existsSync(join(base, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Postgres refuses to run as root: there, run the binaries as the `postgres` system user. */
function runAs(): { prefix: string[]; uid?: number; gid?: number } | string {
  if (process.getuid?.() !== 0) return { prefix: [] };
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser'))
    return 'running as root without runuser';
  try {
    const ids = userIds('postgres');
    return { prefix: ['runuser', '-u', 'postgres', '--'], ...ids };
  } catch {
    return 'running as root and no postgres system user exists';
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Why a throwaway cluster cannot be made here, or undefined when it can. */
export function pgClusterUnavailable(): string | undefined {
  if (process.platform === 'win32') return 'throwaway Postgres clusters are not supported on Windows';
  if (!findPgBin()) return 'initdb/pg_ctl not found under /usr/lib/postgresql/*/bin (set PG_BIN)';
  const as = runAs();
  return typeof as === 'string' ? as : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const reason = pgClusterUnavailable();
  if (reason) throw new Error(`cannot start a throwaway Postgres: ${reason}`);
  const bin = findPgBin()!;
  const as = runAs() as { prefix: string[]; uid?: number; gid?: number };
  const root = mkdtempSync(join(tmpdir(), 'pw-pg-'));
  if (as.uid !== undefined) chownSync(root, as.uid, as.gid!);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const port = await freePort();
  const exec = (tool: string, args: string[]) => {
    const [command, ...rest] = [...as.prefix, join(bin, tool), ...args];
    return run(command!, rest, { env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 });
  };

  await exec('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  // Durability does not matter for a cluster that lives for one test file; speed does.
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=50',
  ].join(' ');
  let running = false;
  const cluster: PgCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      await exec('pg_ctl', ['start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', options]);
      running = true;
    },
    async stop() {
      // Fast shutdown: sessions are cut as in a failover or a restart of the database host.
      await exec('pg_ctl', ['stop', '-D', dataDir, '-w', '-t', '60', '-m', 'fast']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
