import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { WebhookResponse } from '../../lib/http/index.js';

export interface HttpEventOptions {
  method?: string;
  path: string;
  rawQuery?: string;
  body?: string;
  headers?: Record<string, string>;
  sourceIp?: string;
  /** HTTP API base64-encodes form bodies; most tests send them that way. */
  base64?: boolean;
}

/** An API Gateway HTTP API (payload 2.0) event, as Lambda receives it. */
export function httpEvent(options: HttpEventOptions): APIGatewayProxyEventV2 {
  const {
    method = 'POST',
    path,
    rawQuery = '',
    body,
    headers = {},
    sourceIp = '203.0.113.10',
    base64 = true,
  } = options;
  const lowered = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: rawQuery,
    headers: { host: 'hooks.example.test', ...lowered },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'hooks.example.test',
      domainPrefix: 'hooks',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent: lowered['user-agent'] ?? 'test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: body !== undefined && base64,
  };
}

export const lambdaContext = (): Context =>
  ({
    awsRequestId: `aws-${Math.random().toString(36).slice(2)}`,
    functionName: 'test',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<WebhookResponse>;

/** Invokes a webhook handler as Lambda would. */
export function invoke(handler: unknown, event: APIGatewayProxyEventV2): Promise<WebhookResponse> {
  return (handler as Handler)(event, lambdaContext());
}
