import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AwsCredentials, signRequest } from './sigv4.js';

type Env = Record<string, string | undefined>;

/** A call AWS refused or that did not answer in time; `code` is AWS's error type (e.g. `AccessDeniedException`). */
export class AwsRequestError extends Error {
  constructor(
    readonly service: string,
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${service} ${code}: ${message}`, options);
    this.name = 'AwsRequestError';
  }

  /** Worth one more try: throttling, a 5xx or no answer (never a refusal like AccessDenied). */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || /Throttl|RequestLimit|TooMany/.test(this.code);
  }
}

/** The calling identity and region: the Lambda runtime sets these variables from the function's role. */
export function awsEnvironment(
  env: Env = process.env,
): { credentials: AwsCredentials; region: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!accessKeyId || !secretAccessKey || !region) return undefined;
  return {
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined },
    region,
  };
}

export interface AwsJsonCall {
  /** Signing name and endpoint prefix: `sqs`, `ssm`. */
  service: string;
  /** `X-Amz-Target`, e.g. `AmazonSQS.SendMessage`. */
  target: string;
  /** `1.0` (SQS) or `1.1` (SSM). */
  jsonVersion: '1.0' | '1.1';
  input: unknown;
  /** Overrides `https://<service>.<region>.<domain>` (local stand-ins in tests). */
  endpoint?: string;
  /** Bound on the whole call, retry included. */
  timeoutMs: number;
  env?: Env;
}

const domainOf = (region: string) => (region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com');

/**
 * One AWS JSON-protocol request, signed with the environment's credentials, bounded by `timeoutMs`; retried once
 * when AWS throttles, fails on its side or does not answer, if time remains. Small on purpose: a webhook that
 * queues a job should not load a whole SDK on its first invocation.
 */
export async function awsJsonRequest<T>(call: AwsJsonCall): Promise<T> {
  const aws = awsEnvironment(call.env);
  if (!aws) {
    throw new AwsRequestError(
      call.service,
      'MissingCredentials',
      'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION are needed',
    );
  }
  const url = new URL(call.endpoint ?? `https://${call.service}.${aws.region}.${domainOf(aws.region)}/`);
  const body = JSON.stringify(call.input);
  const deadline = Date.now() + call.timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await once<T>(call, url, body, aws, deadline - Date.now());
    } catch (error) {
      const retry =
        error instanceof AwsRequestError && error.retryable && attempt < 2 && deadline - Date.now() > 50;
      if (!retry) throw error;
    }
  }
}

async function once<T>(
  call: AwsJsonCall,
  url: URL,
  body: string,
  aws: { credentials: AwsCredentials; region: string },
  timeoutMs: number,
): Promise<T> {
  const headers = signRequest(
    {
      method: 'POST',
      url,
      headers: { 'content-type': `application/x-amz-json-${call.jsonVersion}`, 'x-amz-target': call.target },
      body,
    },
    { service: call.service, region: aws.region, credentials: aws.credentials },
  );
  let response: { status: number; headers: IncomingHttpHeaders; text: string };
  try {
    response = await post(url, headers, body, timeoutMs);
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    const detail = timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new AwsRequestError(call.service, timedOut ? 'Timeout' : 'NetworkError', detail, undefined, {
      cause: error,
    });
  }
  const { status, text } = response;
  const parsed = text ? (safeJson(text) as Record<string, unknown> | undefined) : {};
  if (status < 200 || status > 299) {
    // `__type` is `namespace#Code` (or the awsQueryError header on SQS); the message key varies in case.
    const type = String(parsed?.__type ?? response.headers['x-amzn-query-error'] ?? `Http${status}`);
    const code = type.split('#').pop()?.split(';')[0] ?? type;
    const message = String(parsed?.message ?? parsed?.Message ?? text.slice(0, 200));
    throw new AwsRequestError(call.service, code, message, status);
  }
  if (parsed === undefined)
    throw new AwsRequestError(call.service, 'BadResponse', 'answer is not JSON', status);
  return parsed as T;
}

/** node:http's request for the local stand-ins, kept once loaded: an import() per call goes through the loader. */
let httpRequest: typeof httpsRequest | undefined;

async function requestFunctionFor(url: URL): Promise<typeof httpsRequest> {
  if (url.protocol !== 'http:') return httpsRequest;
  httpRequest ??= (await import('node:http')).request;
  return httpRequest;
}

/**
 * One POST over node:http(s), bounded as a whole. Not `fetch`: Node loads its HTTP client (undici) on the first
 * call, which costs a cold container more than the SDK import this module replaces. Plain HTTP serves only the
 * local stand-ins, so node:http is loaded only for them.
 */
async function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number) {
  const send = await requestFunctionFor(url);
  return new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const request = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(
      () => {
        const error = new Error(`no answer within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        request.destroy(error);
      },
      Math.max(1, timeoutMs),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
      });
      response.on('error', reject);
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
