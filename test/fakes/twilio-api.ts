import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Twilio's Messages API (POST and GET …/Accounts/{sid}/Messages.json), as strict as the
 * tests need: Basic auth checked, each created message kept and listed with its date, scripted failures,
 * including a send that is made but whose answer is lost (the case a worker must not repeat).
 */
export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback: string | null;
  dateCreated: Date;
}

type Scripted =
  | { kind: 'status'; status: number; body: unknown }
  /** Create the message, then drop the connection without an answer. */
  | { kind: 'lose' };

export interface FakeTwilioApi {
  url: string;
  /** Messages really created (sent). */
  messages: FakeTwilioMessage[];
  /** Every request: method, path, authorization header, form or query. */
  requests: { method: string; path: string; authorization: string; params: URLSearchParams }[];
  /** Answer the next POSTs as scripted, in order; then normally. */
  script(...answers: Scripted[]): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeTwilioApi(options: {
  accountSid: string;
  authToken: string;
}): Promise<FakeTwilioApi> {
  const messages: FakeTwilioMessage[] = [];
  const requests: FakeTwilioApi['requests'] = [];
  let scripted: Scripted[] = [];
  let sequence = 0;
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const collection = `/2010-04-01/Accounts/${options.accountSid}/Messages.json`;

  const answer = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const params = req.method === 'POST' ? new URLSearchParams(raw) : url.searchParams;
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization ?? '',
      params,
    });
    if (req.headers.authorization !== expectedAuth) return answer(res, 401, { code: 20003, status: 401 });
    if (url.pathname !== collection) return answer(res, 404, { code: 20404, status: 404 });
    if (req.method === 'GET') {
      const since = params.get('DateSent>');
      const listed = messages.filter(
        (m) =>
          (!params.get('To') || m.to === params.get('To')) &&
          (!params.get('From') || m.from === params.get('From')) &&
          (!since || m.dateCreated.toISOString().slice(0, 10) >= since),
      );
      return answer(res, 200, {
        messages: listed.map((m) => ({
          sid: m.sid,
          to: m.to,
          from: m.from,
          body: m.body,
          status: 'sent',
          date_created: m.dateCreated.toUTCString(),
        })),
      });
    }
    const next = scripted.shift();
    if (next?.kind === 'status') return answer(res, next.status, next.body);
    const to = params.get('To') ?? '';
    const from = params.get('From') ?? '';
    const body = params.get('Body') ?? '';
    if (!/^\+\d{8,15}$/.test(to))
      return answer(res, 400, { code: 21211, message: "Invalid 'To' Phone Number" });
    const message = {
      sid: `SM${(++sequence).toString(16).padStart(32, '0')}`,
      to,
      from,
      body,
      statusCallback: params.get('StatusCallback'),
      dateCreated: new Date(),
    };
    messages.push(message);
    if (next?.kind === 'lose') {
      req.socket.destroy();
      return;
    }
    answer(res, 201, { sid: message.sid, status: 'queued', to, from, body });
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    requests,
    script: (...answers) => {
      scripted.push(...answers);
    },
    reset: () => {
      messages.length = 0;
      requests.length = 0;
      scripted = [];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
