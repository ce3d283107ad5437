/**
 * The plain reference handler of `twilio/sms/incoming` the benchmark compares this project against (DESIGN.md
 * "Performance targets"): bare node:http + pg, the signature check twilio.webhook() does (its validator,
 * deep-imported), a keyword includes() classifier and three writes (inbound row, reply row, log row), as a
 * seed-style handler would. Run as a child process: options as JSON in argv[2]; it sends `{ url }` over IPC
 * once listening and answers `cpu` messages with its process.cpuUsage().
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';

export interface ReferenceOptions {
  databaseUrl: string;
  authToken: string;
  baseUrl: string;
  poolSize: number;
}

const PATH = '/webhooks/twilio/sms/incoming';

const REPLIES: [string[], string, string][] = [
  [['stop', 'unsubscribe', 'cancel'], 'opt_out', 'You are unsubscribed. Reply START to resubscribe.'],
  [['appointment', 'book', 'cita', 'schedule'], 'appointment', 'To book, call us or use our online form.'],
  [['hours', 'open', 'close'], 'hours', 'We are open Mon-Fri 8-5, Sat 9-1.'],
  [['where', 'address', 'parking'], 'location', 'We are at 123 Main St, parking behind the building.'],
  [['insurance', 'delta'], 'insurance', 'We accept most PPO plans; call to check yours.'],
];

function classify(body: string): { intent: string; reply: string } {
  const text = body.toLowerCase();
  for (const [words, intent, reply] of REPLIES) {
    if (words.some((word) => text.includes(word))) return { intent, reply };
  }
  return { intent: 'default', reply: 'Thanks for your message, we will get back to you soon.' };
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

type Query = (text: string, values: unknown[]) => Promise<{ rows: { id?: number }[] }>;

/** The reference's three writes for one inbound text: inbound row, reply row, log row, each its own statement. */
export async function referenceWrites(
  db: { query: Query },
  fields: Record<string, string | undefined>,
  reply: string,
  intent: string,
  log: { path: string; sourceIp: string | undefined; durationMs: number },
): Promise<void> {
  const inbound = await db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status)
     VALUES ('twilio', $1, 'inbound', $2, $3, $4, 'received') RETURNING id`,
    [fields.MessageSid, fields.From, fields.To, fields.Body],
  );
  await db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       auto_response_intent, in_reply_to)
     VALUES ('twilio', $1, 'outbound', $2, $3, $4, 'queued', $5, $6)`,
    [`reply:${fields.MessageSid}`, fields.To, fields.From, reply, intent, inbound.rows[0]!.id],
  );
  await db.query(
    `INSERT INTO webhook_logs (provider, endpoint, method, status_code, signature_valid, source_ip,
       duration_ms, payload)
     VALUES ('twilio', $1, 'POST', 200, true, $2, $3, $4)`,
    [log.path, log.sourceIp, log.durationMs, JSON.stringify(fields)],
  );
}

export function startReference(options: ReferenceOptions): Promise<string> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  pool.on('error', () => undefined);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const started = performance.now();
      if (req.method !== 'POST' || req.url !== PATH) {
        res.writeHead(404).end();
        return;
      }
      const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      if (!validateRequest(options.authToken, signature, options.baseUrl + PATH, fields)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('invalid signature');
        return;
      }
      try {
        const { intent, reply } = classify(fields.Body ?? '');
        await referenceWrites(pool, fields, reply, intent, {
          path: PATH,
          sourceIp: req.socket.remoteAddress,
          durationMs: performance.now() - started,
        });
        res
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeXml(reply)}</Message></Response>`,
          );
      } catch {
        res.writeHead(500).end();
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
    ),
  );
}

if (process.argv[2]?.startsWith('{') && process.send) {
  const url = await startReference(JSON.parse(process.argv[2]) as ReferenceOptions);
  process.on('message', (message) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (message === 'exit') process.exit(0);
  });
  process.send({ url });
}
