import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type HttpError, MethodNotAllowedError } from './errors.js';

export type WebhookResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

export const twiml = (xml: string): WebhookResponse => ({
  statusCode: 200,
  headers: { 'content-type': 'text/xml; charset=utf-8' },
  body: xml,
});

export const noContent = (): WebhookResponse => ({ statusCode: 204, body: '' });

export const plainText = (body: string, statusCode = 200): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body,
});

export const json = (value: unknown, statusCode = 200): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** The contract's refusal shapes: 400 as JSON, 403 as plain text, others plain text with an Allow header on 405. */
export function refusal(error: HttpError): WebhookResponse {
  if (error.statusCode === 400) return json({ error: error.message }, 400);
  const response = plainText(error.message, error.statusCode);
  if (error instanceof MethodNotAllowedError)
    response.headers = { ...response.headers, allow: error.allowed.join(', ') };
  return response;
}
