import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadRequestError, MethodNotAllowedError, PayloadTooLargeError } from './errors.js';
import { routePath } from './route-path.js';
import { wellFormed } from './well-formed.js';

/** Form and query parameters with every value kept: repeated keys and blank values matter to signatures. */
export type Params = Record<string, string[]>;

/** The decoded HTTP request, the same whether it came from API Gateway or the local gateway. */
export interface WebhookRequest {
  method: string;
  /** The path the route sees: rawPath, less a named stage's prefix on the default endpoint (route-path.ts). */
  path: string;
  rawQuery: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** From the API Gateway request context only: forwarding headers are caller-controlled and never trusted. */
  sourceIp: string;
  rawBody: string;
  query: Params;
  /** Form fields, or the top-level scalar fields of a JSON object body. */
  fields: Params;
  /** The parsed JSON body, when the body was JSON. */
  json: unknown;
}

export const MAX_BODY_BYTES = 64 * 1024;

export function parseParams(encoded: string): Params {
  const params: Params = Object.create(null);
  for (const [key, value] of new URLSearchParams(encoded)) {
    params[key] ??= [];
    params[key].push(value);
  }
  return params;
}

/** First value of a parameter, or undefined when absent. */
export const first = (params: Params, key: string): string | undefined => params[key]?.[0];

/** Flattens parameters for code that wants one value per key (the first). */
export function firstValues(params: Params): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const key of Object.keys(params)) flat[key] = params[key]![0]!;
  return flat;
}

export function decodeRequest(
  event: APIGatewayProxyEventV2,
  allowedMethods: readonly string[],
): WebhookRequest {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  if (!allowedMethods.includes(method)) throw new MethodNotAllowedError(method, allowedMethods);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const rawBody = decodeBody(event.body, event.isBase64Encoded);
  const rawQuery = event.rawQueryString ?? '';
  const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = parseBody(rawBody, contentType);
  const query = parseParams(rawQuery);
  // Postgres text cannot hold NUL, and no provider sends it: refuse it here so it can never reach a row. Only
  // a body or query that could encode one (raw, `%00`, or JSON's `\u0000`) is searched after decoding.
  if ((mayHoldNul(rawBody) || mayHoldNul(rawQuery)) && [query, body.fields, body.json].some(holdsNul)) {
    throw new BadRequestError('request contains a NUL character');
  }

  return {
    method,
    path: routePath(event),
    rawQuery,
    headers,
    sourceIp: event.requestContext?.http?.sourceIp ?? '',
    rawBody,
    query,
    ...body,
  };
}

/** Whether a decoded value holds a NUL in any text or key (the text `\u0000` a patient typed is no NUL). */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || holdsNul(item));
}

/** Whether undecoded text could decode to a NUL: a raw one, a percent-escape or a JSON escape of one. */
const mayHoldNul = (text: string): boolean =>
  text.includes('\u0000') || text.includes('%00') || text.includes('\\u0000');

function decodeBody(body: string | undefined, isBase64Encoded: boolean): string {
  if (!body) return '';
  // Check the size before decoding, so a huge body costs nothing (base64 is 4/3 of the bytes).
  const approxBytes = isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
  if (approxBytes > MAX_BODY_BYTES + 2) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes)) {
    throw new BadRequestError('body is not valid UTF-8');
  }
  return text;
}

function parseBody(rawBody: string, contentType: string): { fields: Params; json: unknown } {
  if (rawBody.trim() === '') return { fields: Object.create(null), json: undefined };
  const looksJson = contentType === 'application/json' || (contentType === '' && /^\s*[[{]/.test(rawBody));
  if (!looksJson) {
    if (
      contentType !== '' &&
      contentType !== 'application/x-www-form-urlencoded' &&
      contentType !== 'text/plain'
    ) {
      throw new BadRequestError(`unsupported content type ${contentType}`);
    }
    return { fields: parseParams(rawBody), json: undefined };
  }
  let json: unknown;
  try {
    // JSON may escape a lone surrogate ("\ud800"), which jsonb refuses: made well-formed here, once.
    json = wellFormed(JSON.parse(rawBody));
  } catch {
    throw new BadRequestError('body is not valid JSON');
  }
  const fields: Params = Object.create(null);
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [key, value] of Object.entries(json)) {
      if (typeof value === 'object') continue; // nested values and null stay in `json`
      fields[key] = [String(value)];
    }
  }
  return { fields, json };
}
