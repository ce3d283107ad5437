import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRequest } from '../../lib/aws/sigv4.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../support/aws.js';

/**
 * A small stand-in for SSM Parameter Store's `GetParameters` (JSON protocol): it checks the request's SigV4
 * signature against the local credentials, answers from an editable map, and records every call.
 */
export interface FakeSsm {
  endpoint: string;
  /** Name → decrypted value; edit it to "rotate" a secret. */
  parameters: Map<string, string>;
  /** Names asked for, one entry per request. */
  calls: string[][];
  /** Milliseconds to wait before answering (for timeout tests). */
  delayMs: number;
  /** Answer every request with this status and AWS error type instead (e.g. 400 AccessDeniedException). */
  failWith?: { status: number; type: string };
  close(): Promise<void>;
}

async function read(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function signatureIsValid(request: IncomingMessage, body: string, endpoint: string): boolean {
  const authorization = String(request.headers.authorization ?? '');
  const signed = authorization.match(/SignedHeaders=([^,]+)/)?.[1]?.split(';') ?? [];
  const date = String(request.headers['x-amz-date'] ?? '');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    if (name !== 'host' && name !== 'x-amz-date' && name !== 'x-amz-security-token')
      headers[name] = String(request.headers[name]);
  }
  const iso = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`;
  const expected = signRequest(
    { method: request.method ?? 'POST', url: new URL(request.url ?? '/', endpoint), headers, body },
    {
      service: 'ssm',
      region: LOCAL_REGION,
      credentials: {
        ...LOCAL_CREDENTIALS,
        sessionToken: request.headers['x-amz-security-token'] as string | undefined,
      },
      date: new Date(iso),
    },
  );
  return expected.authorization === authorization;
}

export async function startFakeSsm(parameters: Record<string, string> = {}): Promise<FakeSsm> {
  let endpoint = '';
  const fake: Omit<FakeSsm, 'endpoint' | 'close'> = {
    parameters: new Map(Object.entries(parameters)),
    calls: [],
    delayMs: 0,
  };
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    const answer = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(payload));
    };
    if (fake.delayMs) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    if (request.headers['x-amz-target'] !== 'AmazonSSM.GetParameters')
      return answer(400, { __type: 'UnknownOperationException', message: 'only GetParameters' });
    if (!signatureIsValid(request, body, endpoint))
      return answer(400, { __type: 'InvalidSignatureException', message: 'signature does not match' });
    const input = JSON.parse(body) as { Names: string[]; WithDecryption?: boolean };
    fake.calls.push(input.Names);
    if (fake.failWith)
      return answer(fake.failWith.status, { __type: fake.failWith.type, message: 'refused by the fake' });
    const known = input.Names.filter((name) => fake.parameters.has(name));
    return answer(200, {
      Parameters: known.map((name) => ({
        Name: name,
        Type: 'SecureString',
        Value: input.WithDecryption ? fake.parameters.get(name) : 'AQICAH-encrypted',
        Version: 1,
      })),
      InvalidParameters: input.Names.filter((name) => !fake.parameters.has(name)),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    endpoint,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
