import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadRequestError, HttpError } from './errors.js';

/** A path that is well formed but not this route's: the request was routed (or replayed) to the wrong handler. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
    this.name = 'NotFoundError';
  }
}

/**
 * The request path as the routes know it. On the default execute-api endpoint a named stage prefixes
 * rawPath (`/prod/webhooks/...`): it is stripped here, and WEBHOOK_BASE_URL then ends with `/prod`. On a
 * custom domain rawPath holds neither the stage nor the API mapping key, so it is kept as is, and
 * WEBHOOK_BASE_URL carries the mapping key (`https://hooks.example.com/pedro`). Either way the URL Twilio
 * signed is WEBHOOK_BASE_URL + this path.
 */
export function routePath(event: APIGatewayProxyEventV2): string {
  const rawPath = event.rawPath ?? event.requestContext?.http?.path ?? '/';
  const stage = event.requestContext?.stage;
  const domain = event.requestContext?.domainName ?? '';
  const onDefaultEndpoint = /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/i.test(domain);
  if (onDefaultEndpoint && stage && stage !== '$default' && rawPath.startsWith(`/${stage}/`)) {
    return rawPath.slice(stage.length + 1);
  }
  return rawPath;
}

/** Dot segments, encoded separators or dots, backslashes, empty segments: refused whatever follows. */
const AMBIGUOUS_PATH = /%2e|%2f|%5c|\\|\/\.{1,2}(?:\/|$)|\/\//i;

/**
 * Binds a request to its route before any signature check: the path must be exactly the route's own, with
 * nothing a URL normaliser could collapse (a signature for `/a` must not validate at `/b/../a`).
 */
export function checkRoutePath(path: string, expected: string): void {
  if (AMBIGUOUS_PATH.test(path)) throw new BadRequestError('path has dot segments or encoded separators');
  if (path !== expected) throw new NotFoundError(`path is not ${expected}`);
}
