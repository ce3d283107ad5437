import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { localQueues, type QueueName } from '../queue/index.js';
import { PERSISTENT_RETRIES } from '../queue/local.js';
import { type FunctionEntry, readFunctions } from './routes.js';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface GatewayOptions {
  root: string;
  port: number;
  host?: string;
  /** Run scheduled functions on their rate (off by default: pollers call real provider APIs). */
  schedules?: boolean;
  /**
   * Keep queued messages and dead letters in files here, retried for 15 minutes as SQS would, and resume
   * them on the next start. Without it the queues live in memory (tests).
   */
  queueDirectory?: string;
}

export interface Gateway {
  url: string;
  routes: { method: string; path: string; function: string }[];
  workers: { queue: string; function: string }[];
  skipped: string[];
  close(): Promise<void>;
}

/** Media types API Gateway HTTP API passes as text; everything else arrives base64-encoded. */
const TEXT_TYPES = /^(application\/json|text\/)/;
/** The gateway stops reading far above the 64 KiB webhook limit, so the handler still answers 413 itself. */
const READ_LIMIT = 1024 * 1024;
/** How often a persisted gateway looks for messages redriven into its queue directory. */
const RESCAN_MS = 5_000;

/**
 * The local stand-in for API Gateway + Lambda + SQS: builds real HTTP API v2 events for every route in
 * serverless.yml and invokes the same handler code; queue workers consume the in-process queues.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const functions = readFunctions(join(options.root, 'serverless.yml'));
  const handlers = new Map<string, LambdaHandler>();
  const skipped: string[] = [];
  await Promise.all(
    functions.map(async (fn) => {
      const source = join(options.root, `${fn.file}.ts`);
      if (!existsSync(source)) {
        skipped.push(fn.name);
        return;
      }
      const module = (await import(pathToFileURL(source).href)) as { handler: LambdaHandler };
      handlers.set(fn.name, module.handler);
    }),
  );

  const routes = functions.flatMap((fn) =>
    handlers.has(fn.name) ? fn.http.map((route) => ({ ...route, function: fn.name })) : [],
  );
  const workers = functions.filter((fn) => fn.queue && handlers.has(fn.name));
  if (options.queueDirectory)
    localQueues.configure({ ...PERSISTENT_RETRIES, directory: options.queueDirectory });
  for (const worker of workers) {
    const handler = handlers.get(worker.name)!;
    localQueues.register(worker.queue as QueueName, (event) => handler(event, context(worker)) as never);
  }
  // The follow-up relay only talks to Postgres and the local queues: it always runs, as it does on AWS.
  const timers = startSchedules(
    functions.filter((fn) => options.schedules || ALWAYS_SCHEDULED.has(fn.name)),
    handlers,
  );
  if (options.queueDirectory) {
    // Picks up dead letters the CLI redrove into the directory while the gateway runs.
    const rescan = setInterval(() => localQueues.rescan(), RESCAN_MS);
    rescan.unref();
    timers.push(rescan);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const onPath = routes.filter((route) => route.path === url.pathname);
    const route = onPath.find((r) => r.method === method || r.method === '*') ?? onPath[0];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no route');
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('body too large');
      return;
    }
    const fn = functions.find((f) => f.name === route.function)!;
    try {
      const result = (await handlers.get(fn.name)!(toEvent(req, url, method, body), context(fn))) as {
        statusCode: number;
        headers?: Record<string, string>;
        body?: string;
      };
      res.writeHead(result.statusCode, result.headers).end(result.body ?? '');
    } catch (error) {
      // Lambda would answer 500 here; a webhook handler never should, so make it loud.
      console.error(`${fn.name} threw:`, error);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://localhost:${address.port}`,
    routes: routes.map(({ method, path, function: name }) => ({ method, path, function: name })),
    workers: workers.map((w) => ({ queue: w.queue!, function: w.name })),
    skipped,
    close: () => closeServer(server, timers, Boolean(options.queueDirectory)),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= READ_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > READ_LIMIT ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(req: IncomingMessage, url: URL, method: string, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const isText = TEXT_TYPES.test(headers['content-type'] ?? '');
  const rawQuery = url.search.replace(/^\?/, '');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: rawQuery,
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        // What the socket saw, as API Gateway reports the TCP peer; forwarding headers are not trusted.
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `local-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      routeKey: `${method} ${url.pathname}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function context(fn: FunctionEntry): Context {
  return {
    awsRequestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    functionName: fn.name,
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
}

/** Scheduled functions that run locally even without LOCAL_SCHEDULES (they call no provider API). */
const ALWAYS_SCHEDULED = new Set(['followUpRelay']);

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

function startSchedules(functions: FunctionEntry[], handlers: Map<string, LambdaHandler>): NodeJS.Timeout[] {
  const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
  return functions.flatMap((fn) => {
    const match = fn.schedule ? RATE.exec(fn.schedule) : null;
    const handler = handlers.get(fn.name);
    if (!match || !handler) return [];
    const every = Number(match[1]) * unit[match[2]!.replace(/s$/, '') as keyof typeof unit];
    const timer = setInterval(() => {
      handler({ source: 'local.schedule', 'detail-type': 'Scheduled Event', detail: {} }, context(fn)).catch(
        (error) => console.error(`${fn.name} failed:`, error),
      );
    }, every);
    timer.unref();
    return [timer];
  });
}

async function closeServer(server: Server, timers: NodeJS.Timeout[], persisted: boolean): Promise<void> {
  for (const timer of timers) clearInterval(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // Persisted messages wait on disk for the next start; in memory, finish them (tests read the results).
  if (persisted) await localQueues.stop();
  else await localQueues.idle();
}
