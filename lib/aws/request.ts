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
  delete headers.host; // fetch sets it from the URL
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    const detail = timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new AwsRequestError(call.service, timedOut ? 'Timeout' : 'NetworkError', detail, undefined, {
      cause: error,
    });
  }
  const parsed = text ? (safeJson(text) as Record<string, unknown> | undefined) : {};
  if (!response.ok) {
    // `__type` is `namespace#Code` (or the awsQueryError header on SQS); the message key varies in case.
    const type = String(
      parsed?.__type ?? response.headers.get('x-amzn-query-error') ?? `Http${response.status}`,
    );
    const code = type.split('#').pop()?.split(';')[0] ?? type;
    const message = String(parsed?.message ?? parsed?.Message ?? text.slice(0, 200));
    throw new AwsRequestError(call.service, code, message, response.status);
  }
  if (parsed === undefined)
    throw new AwsRequestError(call.service, 'BadResponse', 'answer is not JSON', response.status);
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
