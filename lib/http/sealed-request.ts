import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The raw request kept for `replay`, sealed with AES-256-GCM under REPLAY_KEY (32 bytes, base64; from SSM on
 * AWS). The key never enters the database, so a database dump reveals no message text or numbers.
 * Layout: 12-byte IV | 16-byte tag | ciphertext.
 */
export function sealRequest(event: APIGatewayProxyEventV2, key: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const kept = {
    rawPath: event.rawPath,
    rawQueryString: event.rawQueryString,
    headers: event.headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    // Stage and domain decide the route's path (route-path.ts), so replay dispatches as the request arrived.
    requestContext: {
      http: event.requestContext?.http,
      stage: event.requestContext?.stage,
      domainName: event.requestContext?.domainName,
    },
  };
  const sealed = Buffer.concat([cipher.update(JSON.stringify(kept), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]);
}

export function openRequest(sealed: Buffer, key: Buffer): APIGatewayProxyEventV2 {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  const kept = JSON.parse(
    Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8'),
  );
  const http = kept.requestContext?.http ?? {};
  return {
    version: '2.0',
    routeKey: `${http.method} ${kept.rawPath}`,
    rawPath: kept.rawPath,
    rawQueryString: kept.rawQueryString ?? '',
    headers: kept.headers ?? {},
    body: kept.body,
    isBase64Encoded: kept.isBase64Encoded ?? false,
    requestContext: {
      accountId: 'replay',
      apiId: 'replay',
      domainName: kept.requestContext?.domainName ?? 'replay',
      domainPrefix: 'replay',
      http,
      requestId: `replay-${Date.now().toString(36)}`,
      routeKey: `${http.method} ${kept.rawPath}`,
      stage: kept.requestContext?.stage ?? '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

/** Parses REPLAY_KEY; undefined when unset (raw requests are then not kept). */
export function parseReplayKey(value: string | undefined): Buffer | undefined {
  if (!value) return undefined;
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32)
    throw new Error('REPLAY_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return key;
}
